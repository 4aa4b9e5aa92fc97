"""The stream frame Chat Completions and legacy Completions share: `data:` JSON
chunks, a finish chunk, a usage chunk only when the request asked for one, and
`[DONE]` last. Subclasses spell the content, the finish and the usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, assert_never

from . import sse
from .api import Rendering
from .openai_request import OpenAIErrors
from .plan import BATCH, TimedEvent
from .reading import Ending, Frame, StepSink, error_fields, json_object, whole
from .script import (
    CommentItem,
    Delta,
    DoneItem,
    ErrorItem,
    EventItem,
    FinishItem,
    Item,
    RawItem,
    StopItem,
    TextRun,
    ToolArgs,
    ToolStart,
    UsageItem,
)


def passthrough(item: EventItem | CommentItem | RawItem, line_ending: str) -> bytes:
    """The bytes of the steps every SSE API writes as given: event, comment, raw."""
    match item:
        case EventItem():
            return sse.event(
                item.data, name=item.event, id=item.id, retry=item.retry, line_ending=line_ending
            )
        case CommentItem():
            return sse.comment(item.text, line_ending)
        case RawItem():
            return item.text.encode("utf-8")
        case _:
            assert_never(item)


class DataStream:
    def __init__(self, rendering: Rendering, head: dict[str, Any]) -> None:
        self.rendering = rendering
        self.script = rendering.script
        self.le = rendering.line_ending
        self.include_usage = rendering.request.include_usage
        self.head = head  # the fields every chunk starts with
        self.out: list[TimedEvent] = []
        self.finished = False
        self.usage_sent = False
        self.done_sent = False
        # Set by a subclass once a text delta is just TEXT_PREFIX + escaped text +
        # TEXT_SUFFIX: the fast path of long streams.
        self.text_prefix: str | None = None
        self.text_suffix = ""

    # --- what a subclass spells ---

    def content(self, at: float, item: Delta | ToolStart | ToolArgs) -> None:
        raise NotImplementedError

    def finish_chunk(self, at: float, reason: str) -> None:
        raise NotImplementedError

    def usage_payload(self, usage: UsageItem) -> dict[str, Any]:
        raise NotImplementedError

    # --- the frame ---

    def emit(self, at: float, data: bytes) -> None:
        self.out.append(TimedEvent(at, data))

    def payload(self, at: float, payload: dict[str, Any]) -> None:
        self.emit(at, sse.data(payload, self.le))

    def events(self) -> Iterator[TimedEvent]:
        """The events, made as they are read (a long stream plays while it renders)."""
        out = self.out
        for segment in self.script.beats.segments:
            if type(segment) is TextRun and segment.channel == "text":
                yield from self._text_run(segment)
            elif type(segment) is TextRun:
                for at, item in segment.beats():
                    self.item(at, item)
            else:
                self._beat(*segment)
            if len(out) >= BATCH:
                yield from out
                out.clear()
        reply = self.script.reply
        if reply.stop is None and reply.error is None:
            at = self.script.end_at
            self.close(at)
            if self.rendering.response.done and not self.done_sent:
                self.item(at, DoneItem())
        yield from out
        out.clear()

    def _beat(self, at: float, item: Item) -> None:
        if self.text_prefix is not None and type(item) is Delta and item.channel == "text":
            self.out.append(TimedEvent(at, self._text(item.text)))
        else:
            self.item(at, item)

    def _text_run(self, run: TextRun) -> Iterator[TimedEvent]:
        """A run of text pieces: once the subclass has its fast path, each piece is
        its prefix, the escaped piece and its suffix, with no item made for it.
        Hands on what it has made every BATCH events."""
        out, timed = self.out, run.timed()
        if self.text_prefix is None:
            for at, piece in timed:
                self.item(at, Delta("text", piece))
                if self.text_prefix is not None:
                    break
        prefix, suffix, escape, append = self.text_prefix, self.text_suffix, sse.json_string, out.append
        if prefix is None:
            return
        for at, piece in timed:
            append(TimedEvent(at, (prefix + escape(piece) + suffix).encode("ascii")))
            if len(out) >= BATCH:
                yield from out
                out.clear()

    def _text(self, text: str) -> bytes:
        assert self.text_prefix is not None
        return (self.text_prefix + sse.json_string(text) + self.text_suffix).encode("ascii")

    def close(self, at: float) -> None:
        """The finish chunk and the usage chunk, where the script left them out."""
        if not self.finished:
            self.item(at, FinishItem(self.script.reply.finish_reason))
        if self.include_usage and not self.usage_sent:
            self.item(at, self.script.reply.usage)

    def item(self, at: float, item: Item) -> None:
        match item:  # exhaustive: a new item kind is a type error until handled
            case Delta() | ToolStart() | ToolArgs():
                self.content(at, item)
            case FinishItem():
                self.finished = True
                self.finish_chunk(at, item.reason)
            case UsageItem():
                # Like the real API: a usage chunk only when the request asked for one
                # (stream_options.include_usage); clients not asking index choices[0].
                if not self.include_usage:
                    return
                if not self.finished:  # the real API sends the finish chunk before usage
                    self.item(at, FinishItem(self.script.reply.finish_reason))
                self.usage_sent = True
                self.payload(at, {**self.head, "choices": [], "usage": self.usage_payload(item)})
            case ErrorItem():
                self.emit(at, OpenAIErrors().error_event(item.error, self.le))
            case DoneItem():
                if not self.done_sent and self.script.reply.error is None:
                    self.close(at)  # [DONE] ends the stream: finish and usage come first
                self.done_sent = True
                self.emit(at, f"data: [DONE]{self.le}{self.le}".encode("ascii"))
            case EventItem() | CommentItem() | RawItem():
                self.emit(at, passthrough(item, self.le))
            case StopItem():
                pass  # writes nothing: the player ends the connection
            case _:
                assert_never(item)


class DataStreamReader:
    """Reads a `data:` JSON stream back (recording): the inverse of DataStream.
    Subclasses read one choice (`choice`) and a whole body (`body`)."""

    def __init__(self, steps: StepSink) -> None:
        self.steps = steps
        self.pinned = False
        self.finished = False
        self.done = False

    def choice(self, choice: dict[str, Any]) -> None:
        raise NotImplementedError

    def body(self, body: Any) -> None:
        raise NotImplementedError

    def pin(self, payload: dict[str, Any]) -> None:
        if not self.pinned:
            self.pinned = True
            created = payload.get("created")
            self.steps.pin(
                id=_string(payload.get("id")),
                created=whole(created),
                model=_string(payload.get("model")),
            )

    def frame(self, frame: Frame) -> None:
        if frame.comment is not None:
            self.steps.comment(frame.comment)
            return
        if frame.data == "[DONE]" and frame.event is None:
            self.done = True
            return
        payload = json_object(frame.data)
        if payload is None or frame.event is not None:
            self.steps.event(frame)
            return
        fields = error_fields(payload.get("error"))
        if fields is not None:
            self.steps.error(*fields)
            return
        self.pin(payload)
        choices = payload.get("choices")
        if isinstance(choices, list):
            for choice in choices[:1]:  # the language has one choice
                if isinstance(choice, dict):
                    self.choice(choice)
                    reason = choice.get("finish_reason")
                    if isinstance(reason, str):
                        self.finished = True
                        self.steps.finish(reason)
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self.steps.usage(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))

    def ending(self) -> Ending:
        if self.done:
            return "complete"
        return "no_done" if self.finished else "cut"


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None
