"""A response's steps resolved for one request: API-neutral items, each with its
time offset, plus what they add up to.

This is where templates are filled, text is cut into deltas, fake content is
made and the schedule is laid out; every API renderer then only spells these
items in its own wire format. Pure: no clock, no I/O.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import random
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, assert_never

from ..scenario import model as m
from ..scenario.template import Template, TemplateValues, render_json
from . import errors
from .fake import fake_arguments, fake_text
from .request import ApiRequest
from .split import cut

# --- items -------------------------------------------------------------------


# The per-piece values of text (Delta, Beat) are NamedTuples: a stream may have
# tens of thousands of them, and a tuple is several times cheaper to make than a
# frozen dataclass.


class Delta(NamedTuple):
    channel: m.Channel
    text: str


@dataclass(frozen=True, slots=True)
class ToolStart:
    index: int
    id: str
    name: str
    legacy: bool
    id_given: bool = False  # the scenario set the id; else it was made ("call_…")


@dataclass(frozen=True, slots=True)
class ToolArgs:
    index: int
    text: str
    legacy: bool


@dataclass(frozen=True, slots=True)
class FinishItem:
    reason: str


@dataclass(frozen=True, slots=True)
class UsageItem:
    input: int
    output: int


@dataclass(frozen=True, slots=True)
class ErrorItem:
    error: errors.ApiError


@dataclass(frozen=True, slots=True)
class EventItem:
    data: str | None
    event: str | None
    id: str | None
    retry: int | None


@dataclass(frozen=True, slots=True)
class CommentItem:
    text: str


@dataclass(frozen=True, slots=True)
class RawItem:
    text: str


@dataclass(frozen=True, slots=True)
class DoneItem:
    pass


@dataclass(frozen=True, slots=True)
class StopItem:
    how: Literal["end", "disconnect", "reset", "stall"]
    hold: float | None


Item = (
    Delta
    | ToolStart
    | ToolArgs
    | FinishItem
    | UsageItem
    | ErrorItem
    | EventItem
    | CommentItem
    | RawItem
    | DoneItem
    | StopItem
)


class Beat(NamedTuple):
    at: float  # seconds after the response headers
    item: Item


def _steady(first: float, gap: float, count: int) -> Iterator[float]:
    """`count` times from `first`, `gap` apart, each the one before plus `gap` (the
    clock's additions, so a run's times are the same floats however often made)."""
    return itertools.accumulate(itertools.repeat(gap, count - 1), initial=first)


class TextRun(NamedTuple):
    """The pieces of one text step, kept as one segment and made into beats only as
    they are read: a 20,000-piece text is 20,000 beats, and a stream that renders as
    it plays needs the first of them at once, not all of them first."""

    times: list[float] | None  # each piece's time (jitter); None: `first`, then every `gap`
    first: float
    gap: float
    last: float  # the last piece's time, as the clock laid it out
    channel: m.Channel
    pieces: list[str]

    def timed(self) -> Iterator[tuple[float, str]]:
        """(time, piece) for each piece."""
        if self.times is not None:
            return zip(self.times, self.pieces, strict=True)
        return zip(_steady(self.first, self.gap, len(self.pieces)), self.pieces, strict=True)

    def beats(self) -> Iterator[Beat]:
        channel = self.channel
        for at, piece in self.timed():
            yield Beat(at, Delta(channel, piece))


class Beats:
    """A script's beats in order, read by iterating (text runs unfold as they are read)."""

    __slots__ = ("_count", "_segments")

    def __init__(self, segments: list[Beat | TextRun]) -> None:
        self._segments = segments
        self._count = sum(len(s.pieces) if isinstance(s, TextRun) else 1 for s in segments)

    @property
    def segments(self) -> list[Beat | TextRun]:
        """The beats as kept: a beat, or a run of text pieces, each."""
        return self._segments

    def __iter__(self) -> Iterator[Beat]:
        for segment in self._segments:
            if isinstance(segment, TextRun):
                yield from segment.beats()
            else:
                yield segment

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def last_at(self) -> float:
        """When the last beat is due (0 for none)."""
        if not self._segments:
            return 0.0
        last = self._segments[-1]
        return last.last if isinstance(last, TextRun) else last.at

    def positions(self) -> Iterator[tuple[int, Beat]]:
        """(position, beat) of the beats that are not text runs, positions counted as
        iteration counts them: what needs only those need not unfold the runs."""
        position = 0
        for segment in self._segments:
            if isinstance(segment, TextRun):
                position += len(segment.pieces)
            else:
                yield position, segment
                position += 1

    def with_usage(self, usage: UsageItem) -> Beats:
        """The same beats, each usage beat carrying `usage`."""
        return Beats(
            [
                Beat(s.at, usage) if isinstance(s, Beat) and isinstance(s.item, UsageItem) else s
                for s in self._segments
            ]
        )


@dataclass(frozen=True, slots=True)
class ToolResult:
    index: int
    id: str
    name: str
    arguments: str
    id_given: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    """Ids and timestamps, derived from the seed and the request number."""

    token: str  # 24 letters and digits, the body of every generated id
    created: int
    request_id: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the items add up to: the body of a non-streamed response."""

    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: tuple[ToolResult, ...] = ()
    function_call: ToolResult | None = None
    finish: str | None = None  # as scripted; None when the script has no finish step
    usage: UsageItem = UsageItem(0, 0)
    usage_given: bool = False
    error: errors.ApiError | None = None
    stop: StopItem | None = None

    @property
    def finish_reason(self) -> str:
        """The scripted finish, else what a model would have said."""
        if self.finish is not None:
            return self.finish
        if self.function_call is not None:
            return "function_call"
        return "tool_calls" if self.tool_calls else "stop"


@dataclass(frozen=True, slots=True)
class Script:
    beats: Beats
    end_at: float  # when the stream's closing events are due
    reply: Reply
    identity: Identity
    model: str
    content_seed: str  # seeds fake content (see content_seed)
    seed: int = 0  # the scenario's (or server's) seed itself


# --- building ----------------------------------------------------------------

_WORDS = re.compile(r"\S+")


def seed_base(seed: int | None, scenario: str, number: int) -> str:
    """What seeds a request's ids and jitter: they differ from request to request."""
    return f"{seed if seed is not None else 0}/{scenario}/{number}"


def content_seed(seed: int | None, scenario: str, response: m.Response) -> str:
    """What seeds fake content: the same for every request the response answers,
    so `fake:` text is the same each time (same seed, same text)."""
    return f"{seed if seed is not None else 0}/{scenario}/line{response.line}"


def seeded_token(key: str, length: int = 24) -> str:
    """`length` letters and digits derived from `key` (`length` a multiple of 4): one
    hash, base64 with its two symbols turned into letters."""
    digest = hashlib.shake_256(key.encode()).digest(length * 3 // 4)
    return base64.b64encode(digest, altchars=b"xZ").decode("ascii")


@functools.lru_cache(maxsize=4096)
def identity(base: str) -> Identity:
    digest = hashlib.blake2b((base + "/ids").encode(), digest_size=32).digest()
    return Identity(
        token=seeded_token(base + "/token"),
        created=1_700_000_000 + int.from_bytes(digest[:4], "big") % 60_000_000,
        request_id="req_" + digest[4:20].hex(),
        fingerprint="fp_" + digest[20:25].hex(),
    )


class _Clock:
    """Lays out the schedule: first piece at `first`, later ones `interval`
    (± jitter) after the one before, a step's `delay` replacing the gap before
    it, and `wait` adding a pause."""

    def __init__(self, timing: m.Timing, seed: str) -> None:
        self.timing = timing
        # seeding a Random costs a hash of the seed: only streams with jitter need one
        self.rng = random.Random(seed) if timing.jitter else None
        self.now = 0.0
        self.pending = 0.0
        self.started = False

    def next(self, delay: float | None) -> float:
        if delay is not None:
            gap = delay
        elif not self.started:
            gap = self.timing.first
        else:
            jitter = self.timing.jitter
            gap = self.timing.interval + (self.rng.uniform(-jitter, jitter) if self.rng else 0.0)
            gap = max(0.0, gap)
        self.started = True
        self.now += self.pending + gap
        self.pending = 0.0
        return self.now

    def run(self, delay: float | None, channel: m.Channel, pieces: list[str]) -> TextRun:
        """The times of `pieces` in a row, the first after `delay`, as a TextRun."""
        first = self.next(delay)
        if self.timing.jitter:
            times = [first] + [self.next(None) for _ in range(len(pieces) - 1)]
            return TextRun(times, first, 0.0, times[-1], channel, pieces)
        gap = max(0.0, self.timing.interval)
        # what next(None) would do, without a call per piece; the run's times are made
        # by the same additions when it is read
        self.now = deque(_steady(first, gap, len(pieces)), maxlen=1)[0]
        return TextRun(None, first, gap, self.now, channel, pieces)

    def wait(self, seconds: float) -> None:
        self.pending += seconds

    def end(self) -> float:
        return self.now + self.pending


def build(
    response: m.Response,
    request: ApiRequest,
    values: TemplateValues,
    base: str,
    content: str,
    seed: int | None = None,
) -> Script:
    """Resolve `response`'s steps for `request`. `base` seeds ids and timing,
    `content` seeds fake text and arguments (see seed_base, content_seed)."""
    ident = identity(base)
    clock = _Clock(response.timing, base + "/timing")
    builder = _Builder(response, request, values, base, content, ident, clock)
    for number, step in enumerate(response.stream):
        builder.add(number, step)
    return replace(builder.finish(), seed=seed or 0)


@dataclass
class _Accumulated:
    channels: dict[str, list[str]] = field(
        default_factory=lambda: {"text": [], "reasoning": [], "refusal": []}
    )
    tools: dict[int, list[str]] = field(default_factory=dict)  # index → [id, name, args...]
    given_ids: set[int] = field(default_factory=set)  # indexes whose id the scenario set
    function: list[str] | None = None
    finish: str | None = None
    usage: tuple[int | None, int | None] | None = None
    error: errors.ApiError | None = None
    stop: StopItem | None = None


class _Builder:
    def __init__(
        self,
        response: m.Response,
        request: ApiRequest,
        values: TemplateValues,
        base: str,
        content: str,
        ident: Identity,
        clock: _Clock,
    ) -> None:
        self.response = response
        self.request = request
        self.values = values
        self.base = base
        self.content_base = content
        self.ident = ident
        self.clock = clock
        self.beats: list[Beat | TextRun] = []
        self.acc = _Accumulated()

    def beat(self, item: Item, delay: float | None) -> None:
        self.beats.append(Beat(self.clock.next(delay), item))

    def add(self, number: int, step: m.Step) -> None:
        # exhaustive: a new step kind is a type error here until it is handled
        match step:
            case m.Content():
                self.content(step.channel, step.text.render(self.values), step.split, step.delay)
            case m.Fake():
                text = fake_text(step.kind, step.count, f"{self.content_base}/fake/{number}")
                self.content("text", text, step.split, step.delay)
            case m.ToolCall():
                self.tool_call(number, step)
            case m.Finish():
                self.acc.finish = step.reason
                self.beat(FinishItem(step.reason), step.delay)
            case m.Usage():
                self.acc.usage = (step.input, step.output)
                self.beat(UsageItem(-1, -1), step.delay)  # counted once the reply is known
            case m.StreamError():
                status = errors.status_for(step.error, None)
                error = errors.resolve(step.error, status, self.values)
                self.acc.error = self.acc.error or error
                self.beat(ErrorItem(error), step.delay)
            case m.Event():
                self.beat(self.event(step), step.delay)
            case m.Comment():
                self.beat(CommentItem(step.text), step.delay)
            case m.Raw():
                self.beat(RawItem(step.text.render(self.values)), step.delay)
            case m.Wait():
                self.clock.wait(step.duration)
            case m.Done():
                self.beat(DoneItem(), step.delay)
            case m.Stop():
                self.acc.stop = StopItem(step.how, step.hold)
                self.beat(self.acc.stop, step.delay)
            case _:
                assert_never(step)

    def content(self, channel: m.Channel, text: str, split: m.Split | None, delay: float | None) -> None:
        self.acc.channels[channel].append(text)
        pieces = cut(text, split or self.response.split)
        if len(pieces) == 1:
            self.beats.append(Beat(self.clock.next(delay), Delta(channel, pieces[0])))
        else:
            self.beats.append(self.clock.run(delay, channel, pieces))

    def tool_call(self, number: int, step: m.ToolCall) -> None:
        arguments = self.arguments(number, step)
        if step.legacy:
            if step.name is not None or self.acc.function is None:
                name = step.name.render(self.values) if step.name is not None else ""
                self.acc.function = ["", name]
                start: Item | None = ToolStart(0, "", name, legacy=True)
            else:
                start = None
            parts = self.acc.function
        else:
            index = step.index if step.index is not None else 0
            if step.name is not None:
                call_id = step.id or f"call_{self._token(index)}"
                name = step.name.render(self.values)
                self.acc.tools[index] = [call_id, name]
                if step.id is not None:
                    self.acc.given_ids.add(index)
                start = ToolStart(index, call_id, name, legacy=False, id_given=step.id is not None)
            else:
                start = None
            parts = self.acc.tools[index]
        parts.append(arguments)
        pieces = cut(arguments, step.split)
        index = step.index if step.index is not None else 0
        first_at = self.clock.next(step.delay)
        if start is not None:
            self.beats.append(Beat(first_at, start))
        for i, piece in enumerate(pieces):
            if piece or start is None:
                at = first_at if i == 0 else self.clock.next(None)
                self.beats.append(Beat(at, ToolArgs(index, piece, step.legacy)))

    def _token(self, index: int) -> str:
        return seeded_token(f"{self.base}/tool/{index}")

    def arguments(self, number: int, step: m.ToolCall) -> str:
        args = step.arguments
        if isinstance(args, m.FakeArguments):
            name = step.name.render(self.values) if step.name is not None else ""
            tool = self.request.tool(name)
            made = fake_arguments(tool.parameters if tool else None, f"{self.content_base}/args/{number}")
            return json.dumps(made, ensure_ascii=False, separators=(",", ":"))
        if isinstance(args, dict):
            return json.dumps(render_json(args, self.values), ensure_ascii=False, separators=(",", ":"))
        return args.render(self.values)

    def event(self, step: m.Event) -> EventItem:
        data: str | None
        if step.data is None:
            data = None
        elif isinstance(step.data, Template):
            data = step.data.render(self.values)
        else:
            data = json.dumps(render_json(step.data, self.values), ensure_ascii=True, separators=(",", ":"))
        return EventItem(data, step.event, step.id, step.retry)

    def finish(self) -> Script:
        acc = self.acc
        text = "".join(acc.channels["text"])
        reasoning = "".join(acc.channels["reasoning"])
        refusal = "".join(acc.channels["refusal"])
        tool_calls = tuple(
            ToolResult(index, parts[0], parts[1], "".join(parts[2:]), index in acc.given_ids)
            for index, parts in sorted(acc.tools.items())
        )
        function = ToolResult(0, "", acc.function[1], "".join(acc.function[2:])) if acc.function else None
        output_words = sum(len(_WORDS.findall(s)) for s in (text, reasoning, refusal)) + sum(
            max(1, len(t.arguments) // 4) for t in tool_calls
        )
        given_in, given_out = acc.usage if acc.usage is not None else (None, None)
        usage = UsageItem(
            given_in if given_in is not None else self.request.input_words,
            given_out if given_out is not None else output_words,
        )
        beats = Beats(self.beats)
        if acc.usage is not None:  # the usage steps' numbers, known only now
            beats = beats.with_usage(usage)
        model = self.response.model.render(self.values) if self.response.model else self.request.model
        reply = Reply(
            text=text,
            reasoning=reasoning,
            refusal=refusal,
            tool_calls=tool_calls,
            function_call=function,
            finish=acc.finish,
            usage=usage,
            usage_given=acc.usage is not None,
            error=acc.error,
            stop=acc.stop,
        )
        return Script(beats, self.clock.end(), reply, self.ident, model, self.content_base)
