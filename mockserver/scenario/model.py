"""The scenario language as frozen values, checked once when loaded.

Nothing here knows about HTTP or any API's wire format: a step says *what* the
assistant streams; the renderers in `mockserver.render` say how each API spells it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .pattern import Pattern
from .template import Template

Seconds = float
Channel = Literal["text", "reasoning", "refusal"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
FINISH_REASONS: tuple[str, ...] = ("stop", "length", "tool_calls", "content_filter", "function_call")
# What `fake: KIND` can make; each is a Faker provider of the same name.
FAKE_KINDS: tuple[str, ...] = (
    "word",
    "words",
    "sentence",
    "sentences",
    "paragraph",
    "paragraphs",
    "text",
    "name",
    "email",
    "city",
    "country",
    "address",
    "company",
    "url",
    "date",
    "uuid4",
)


@dataclass(frozen=True, slots=True)
class Split:
    """How a string is cut into deltas.

    kind: `words` (each word with its leading space), `chars`, `size` (pieces of
    `size` characters), `pieces` (`size` pieces of near-equal length),
    `fragments` (exactly these strings, in order) or `lengths` (pieces of these
    lengths, the rest in a last piece).
    """

    kind: Literal["words", "chars", "size", "pieces", "fragments", "lengths"]
    size: int = 0
    fragments: tuple[str, ...] = ()
    lengths: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Timing:
    first: Seconds = 0.0
    interval: Seconds = 0.0
    jitter: Seconds = 0.0


@dataclass(frozen=True, slots=True)
class WriteSize:
    minimum: int
    maximum: int


@dataclass(frozen=True, slots=True)
class Transport:
    line_ending: str = "\n"
    write_size: WriteSize | None = None
    headers_delay: Seconds = 0.0


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """An API error: a response's `error`, or an `error` step inside a stream."""

    message: Template | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None


# --- steps -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Content:
    """`text`, `reasoning` or `refusal`: words for one channel of the reply."""

    channel: Channel
    text: Template
    split: Split | None = None
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Fake:
    """`fake: sentence` — text made by Faker from the seed."""

    kind: str
    count: int | None = None
    split: Split | None = None
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class FakeArguments:
    """`arguments: fake` — made from the offered tool's JSON schema."""


Arguments = Template | dict[str, Any] | FakeArguments


@dataclass(frozen=True, slots=True)
class ToolCall:
    """`tool_call` (or, with legacy=True, the old `function_call`).

    name None: continue the arguments of the call already started at `index`.
    """

    name: Template | None
    arguments: Arguments
    id: str | None = None
    index: int | None = None
    split: Split | None = None
    legacy: bool = False
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    input: int | None  # None: count the request's words
    output: int | None  # None: count the reply's words
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class StreamError:
    error: ErrorSpec
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One exact SSE event."""

    data: Template | dict[str, Any] | list[Any] | None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Raw:
    text: Template
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    duration: Seconds
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Done:
    delay: Seconds | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """The body ends here: `end` cleanly, `disconnect` mid-body, `reset` with a
    TCP RST, `stall` holding the socket open (for `hold` seconds, or until the
    client leaves, then the connection is dropped)."""

    how: Literal["end", "disconnect", "reset", "stall"]
    hold: Seconds | None = None
    delay: Seconds | None = None


Step = Content | Fake | ToolCall | Finish | Usage | StreamError | Event | Comment | Raw | Wait | Done | Stop


# --- responses and scenarios -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """What one request gets: an error, a fixed body, or a stream of steps."""

    line: int
    status: int | None = None
    headers: tuple[tuple[str, Template], ...] = ()
    body: Template | dict[str, Any] | list[Any] | None = None
    error: ErrorSpec | None = None
    stream: tuple[Step, ...] = ()
    timing: Timing = field(default_factory=Timing)
    split: Split | None = None
    model: Template | None = None
    id: str | None = None
    created: int | None = None
    done: bool = True
    transport: Transport = field(default_factory=Transport)


@dataclass(frozen=True, slots=True)
class BodyRule:
    """`match.body`: a dotted path into the request JSON and what it must be."""

    path: tuple[str, ...]
    equals: Any = None
    regex: Pattern | None = None
    contains: Any = None
    how: Literal["equals", "regex", "contains"] = "equals"


@dataclass(frozen=True, slots=True)
class ToolResultRule:
    """`match.tool_result`: a tool result the request must carry."""

    name: str | None = None
    id: str | None = None
    contains: str | None = None
    regex: Pattern | None = None


@dataclass(frozen=True, slots=True)
class Match:
    method: str | None = None
    path: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    model: str | None = None
    body: tuple[BodyRule, ...] = ()
    text: Pattern | None = None
    tools: str | None = None
    stream: bool | None = None
    priority: int = 0
    turn: int | None = None  # 1 + the assistant turns in the request's history
    tool_result: ToolResultRule | None = None
    system: Pattern | None = None  # a regex on the system prompt
    # a regex on the conversation's first user message: the same on every turn
    # (recordings match on it)
    first_message: Pattern | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a `conversation:`: its responses (a retry of the turn gets the next)
    and an optional guard on the request."""

    responses: tuple[Response, ...]
    match: Match | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    responses: tuple[Response, ...]
    file: str
    line: int
    description: str = ""
    match: Match | None = None
    seed: int | None = None
    cycle: bool = False
    chaos: bool = True  # `chaos: false`: never inject faults into this scenario
    # `conversation:`: turn k of a conversation gets conversation[k-1] (the last repeats);
    # `responses` then holds every turn's responses, for listing them
    conversation: tuple[Turn, ...] = ()

    def turn_for(self, turn: int) -> Turn:
        """The turn that answers a request at `turn` (1-based; the last repeats)."""
        return self.conversation[min(turn, len(self.conversation)) - 1]

    def turn_indices(self, turn: int) -> range:
        """Where that turn's responses stand in `responses`."""
        position = min(turn, len(self.conversation)) - 1
        first = sum(len(t.responses) for t in self.conversation[:position])
        return range(first, first + len(self.conversation[position].responses))

    def response_index(self, number: int) -> int:
        """Which response answers this scenario's request `number` (0-based)."""
        if self.cycle:
            return number % len(self.responses)
        return min(number, len(self.responses) - 1)

    def response_for(self, number: int) -> Response:
        return self.responses[self.response_index(number)]
