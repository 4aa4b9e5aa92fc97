"""Reading an API's answers back into scenario steps: what recording needs of every
API. Each API's reader (in its own module) is the inverse of its renderer: it is
given the frames of a stream (or a whole body) and says, in the scenario language's
terms, what they carried, to a `StepSink` that keeps the time and writes the steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Channel = Literal["text", "reasoning", "refusal"]
# how a recorded stream ended: its own end marker, its end but no `[DONE]`, or cut short
Ending = Literal["complete", "no_done", "cut"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One unit of a stream as it came: an SSE event (its fields), an SSE comment,
    or one line of newline-delimited JSON (`data`)."""

    data: str | None = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None  # the text of a `:` line, when the frame is one
    line: bool = False  # a line of a line-framed stream (NDJSON): `data` is the whole line
    headers: tuple[tuple[str, str], ...] = ()  # a binary frame's own headers (AWS event stream)


class StepSink(Protocol):
    """Where a reader says what a stream carried, in the order it came."""

    def pin(self, *, id: str | None = None, created: int | None = None, model: str | None = None) -> None:
        """The answer's own identity, to replay as it was."""
        ...

    def text(self, channel: Channel, piece: str) -> None:
        """One delta of text, reasoning or refusal, exactly as cut."""
        ...

    def tool_start(self, index: int, call_id: str, name: str) -> None: ...

    def tool_args(self, index: int, piece: str) -> None:
        """One fragment of a tool call's arguments, exactly as cut."""
        ...

    def function_start(self, name: str) -> None:
        """The legacy `function_call` (Chat's single function)."""
        ...

    def function_args(self, piece: str) -> None: ...

    def finish(self, reason: str) -> None:
        """A finish reason in the language's terms (stop, length, tool_calls, ...)."""
        ...

    def usage(self, input: int | None, output: int | None) -> None: ...

    def error(self, message: str, type: str | None, code: str | int | None, param: str | None) -> None:
        """An error inside the stream."""
        ...

    def comment(self, text: str) -> None:
        """A keep-alive: an SSE comment, or an API's own ping."""
        ...

    def event(self, frame: Frame) -> None:
        """A frame the reader has no step for: kept exactly (an `event` or `raw` step)."""
        ...


class WireReader(Protocol):
    """Reads one answer of one API. `frame` for each frame of a stream, or `body`
    once for a whole JSON answer; `ending` once the stream is over."""

    def frame(self, frame: Frame) -> None: ...

    def body(self, body: Any) -> None: ...

    def ending(self) -> Ending: ...


def error_fields(error: Any) -> tuple[str, str | None, str | int | None, str | None] | None:
    """(message, type, code, param) of an `{"error": {...}}` object, the shape most
    APIs share; None when `error` is not one."""
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    if not isinstance(message, str):
        return None
    kind, code, param = error.get("type"), error.get("code"), error.get("param")
    return (
        message,
        kind if isinstance(kind, str) else None,
        code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
        param if isinstance(param, str) else None,
    )


def whole(value: Any) -> int | None:
    """`value` if it is a whole number (a JSON integer, not a bool), else None."""
    return value if type(value) is int else None


def json_object(text: str | None) -> dict[str, Any] | None:
    """`text` as a JSON object, or None when it is not one."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def typed_event(frame: Frame, steps: StepSink) -> tuple[str, dict[str, Any]] | None:
    """An SSE frame of an API whose events carry a `type` (Anthropic, Responses):
    (the type, the payload). A comment, or a frame with no type, is written to
    `steps` as it came, and None returned."""
    if frame.comment is not None:
        steps.comment(frame.comment)
        return None
    payload = json_object(frame.data)
    kind = payload.get("type") if payload is not None else None
    if payload is None or not isinstance(kind, str):
        steps.event(frame)
        return None
    return kind, payload


def read_texts(steps: StepSink, source: dict[str, Any], fields: tuple[tuple[str, Channel], ...]) -> None:
    """Each non-empty text field of `source` as a piece of its channel, in `fields`' order."""
    for key, channel in fields:
        piece = source.get(key)
        if isinstance(piece, str) and piece:
            steps.text(channel, piece)
