"""Parsing one `stream:` step."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ScenarioError
from . import fields as f
from .fields import At
from .model import (
    FAKE_KINDS,
    FINISH_REASONS,
    Arguments,
    Comment,
    Content,
    Done,
    ErrorSpec,
    Event,
    Fake,
    FakeArguments,
    Finish,
    Raw,
    Split,
    Step,
    Stop,
    StreamError,
    ToolCall,
    Usage,
    Wait,
)
from .source import Map, Scalar, Seq, to_plain
from .template import Template, compile_json, compile_template

BARE_STEPS = ("disconnect", "end", "reset", "stall", "done")
STEP_KINDS = (
    "text",
    "reasoning",
    "refusal",
    "fake",
    "tool_call",
    "function_call",
    "finish",
    "usage",
    "error",
    "event",
    "comment",
    "raw",
    "wait",
    *BARE_STEPS,
)
# Keys a step may carry beside its kind key.
STEP_OPTIONS: dict[str, tuple[str, ...]] = {
    "text": ("split", "pieces", "delay"),
    "reasoning": ("split", "pieces", "delay"),
    "refusal": ("split", "pieces", "delay"),
    "fake": ("count", "split", "pieces", "delay"),
    "wait": (),
}
TERMINAL_STEPS = ("disconnect", "end", "reset", "stall")
# The keys of each mapping a step may hold (the JSON Schema is made from these too).
ERROR_KEYS = ("message", "type", "code", "param")
TOOL_CALL_KEYS = ("name", "arguments", "id", "index", "pieces", "split")
FUNCTION_CALL_KEYS = ("name", "arguments", "pieces", "split")
USAGE_KEYS = ("input", "output")
EVENT_KEYS = ("data", "event", "id", "retry")
STALL_KEYS = ("for",)


def template(at: At) -> Template:
    text = f.string(at, allow_numbers=True)
    try:
        return compile_template(text)
    except ValueError as exc:
        raise at.error(str(exc)) from None


def parse_split(at: At, *, allow_lengths: bool = False) -> Split:
    """`words`, `chars`, a number N (pieces of N characters) or a list of pieces."""
    node = at.node
    if isinstance(node, Seq):
        items = [f.scalar(item) for item in at.items()]
        if items and all(isinstance(i, str) for i in items):
            return Split("fragments", fragments=tuple(str(i) for i in items))
        if allow_lengths and items and all(type(i) is int and i > 0 for i in items):
            return Split("lengths", lengths=tuple(int(str(i)) for i in items))
        wanted = "strings or positive whole numbers" if allow_lengths else "strings"
        raise at.error(f"expected a non-empty list of {wanted}")
    value = f.scalar(at)
    if value in ("words", "chars"):
        return Split("words" if value == "words" else "chars")
    if type(value) is int and value > 0:
        return Split("size", size=value)
    raise at.error(
        f"expected words, chars, a positive number of characters or a list of pieces, got {value!r}"
    )


def parse_pieces(at: At) -> Split:
    return Split("pieces", size=f.integer(at, minimum=1))


def parse_error_spec(at: At) -> ErrorSpec:
    """`{message, type, code, param}`, or just the message as a string."""
    if isinstance(at.node, Scalar):
        return ErrorSpec(message=template(at))
    f.mapping(at, ERROR_KEYS, "a mapping with message, type, code, param")
    message = at.key("message")
    type_ = at.key("type")
    code = at.key("code")
    param = at.key("param")
    code_value: str | int | None = None
    if code is not None:
        raw = f.scalar(code)
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, (str, int))):
            raise code.error("expected a string or a whole number")
        code_value = raw if isinstance(raw, (str, int)) else None
    return ErrorSpec(
        message=template(message) if message is not None else None,
        type=f.string(type_) if type_ is not None else None,
        code=code_value,
        param=f.string(param) if param is not None and f.scalar(param) is not None else None,
    )


def parse_step(at: At, state: StepState) -> Step:
    if isinstance(at.node, Scalar) and isinstance(at.node.value, str):
        name = at.node.value
        if name in BARE_STEPS:
            return _bare(name, None, None, at)
        hint = f.suggest(name, STEP_KINDS)
        if name in STEP_KINDS:
            raise at.error(f"the {name!r} step needs a value, e.g. `{name}: ...`")
        raise at.error(f"unknown step {name!r}{hint}; steps are: {', '.join(STEP_KINDS)}")
    if not isinstance(at.node, Map):
        raise at.error(f"expected a step (a mapping such as `text: Hello`), got {f.kind_of(at.node)}")
    kinds = [k for k in at.node.items if k in STEP_KINDS]
    if not kinds:
        first = next(iter(at.node.items), "")
        raise at.error(
            f"no step kind in {sorted(at.node.items)}{f.suggest(first, STEP_KINDS)}; "
            f"steps are: {', '.join(STEP_KINDS)}"
        )
    if len(kinds) > 1:
        raise at.error(f"one step per list item, found {', '.join(kinds)}")
    kind = kinds[0]
    f.mapping(at, (kind, *STEP_OPTIONS.get(kind, ("delay",))))
    value = at.key(kind)
    assert value is not None
    delay_at = at.key("delay")
    delay = f.duration(delay_at) if delay_at is not None else None
    return _PARSERS[kind](value, at, delay, state)


class StepState:
    """What earlier steps of the same response started (tool-call indexes)."""

    def __init__(self) -> None:
        self.tool_indexes: list[int] = []
        self.function_started = False
        self.stopped: str | None = None


def _content(value: At, step: At, delay: float | None, state: StepState) -> Step:
    channel = value.path.rsplit(".", 1)[-1]
    text = template(value)
    split = _text_split(step)
    if split is not None and split.kind == "fragments" and text.constant is not None:
        if "".join(split.fragments) != text.constant:
            raise step.error("the `split` pieces do not join to the text")
    assert channel in ("text", "reasoning", "refusal")
    return Content(channel, text, split, delay)  # type: ignore[arg-type]


def _text_split(step: At) -> Split | None:
    split_at = step.key("split")
    pieces_at = step.key("pieces")
    if split_at is not None and pieces_at is not None:
        raise pieces_at.error("give either `split` or `pieces`, not both")
    if split_at is not None:
        return parse_split(split_at)
    if pieces_at is not None:
        return parse_pieces(pieces_at)
    return None


def _fake(value: At, step: At, delay: float | None, state: StepState) -> Step:
    kind = f.choice(value, FAKE_KINDS)
    count_at = step.key("count")
    count = f.integer(count_at, minimum=1, maximum=1000) if count_at is not None else None
    return Fake(kind, count, _text_split(step), delay)


def _tool_call(value: At, step: At, delay: float | None, state: StepState) -> Step:
    legacy = value.path.endswith("function_call")
    keys = FUNCTION_CALL_KEYS if legacy else TOOL_CALL_KEYS
    f.mapping(value, keys, "a mapping with " + ", ".join(keys))
    name_at = value.key("name")
    index_at = value.key("index")
    id_at = value.key("id")
    split_at = value.key("split")
    pieces_at = value.key("pieces")
    if split_at is not None and pieces_at is not None:
        raise pieces_at.error("give either `split` or `pieces`, not both")
    split: Split | None = None
    if split_at is not None:
        split = parse_split(split_at, allow_lengths=True)
    elif pieces_at is not None:
        split = parse_pieces(pieces_at)
    arguments = _arguments(value.key("arguments"), split, value)
    name = template(name_at) if name_at is not None else None

    index: int | None = None
    if legacy:
        if name is None and not state.function_started:
            raise value.error("a function_call needs `name` (only a continuation may leave it out)")
        state.function_started = True
    else:
        if index_at is not None:
            index = f.integer(index_at, minimum=0, maximum=127)
        if name is None:
            if index is None:
                index = state.tool_indexes[-1] if state.tool_indexes else None
            if index is None or index not in state.tool_indexes:
                raise value.error(
                    "a tool_call needs `name`; leave it out only to continue the arguments "
                    "of a call already started at that `index`"
                )
        else:
            if index is None:
                index = len(state.tool_indexes)
            if index in state.tool_indexes:
                raise (index_at or value).error(f"a tool call at index {index} was already started")
            state.tool_indexes.append(index)
    return ToolCall(
        name=name,
        arguments=arguments,
        id=f.string(id_at) if id_at is not None else None,
        index=index,
        split=split,
        legacy=legacy,
        delay=delay,
    )


def _arguments(at: At | None, split: Split | None, call: At) -> Arguments:
    if at is None:
        if split is not None and split.kind == "fragments":
            return Template(("".join(split.fragments),))
        return Template(("{}",))
    if isinstance(at.node, Map):
        return dict(compile_json(to_plain(at.node)))
    if isinstance(at.node, Scalar) and at.node.value == "fake":
        return FakeArguments()
    text = template(at)
    if split is not None and split.kind == "fragments" and text.constant is not None:
        if "".join(split.fragments) != text.constant:
            raise call.error("the `split` pieces do not join to the arguments")
    return text


def _finish(value: At, step: At, delay: float | None, state: StepState) -> Step:
    return Finish(f.choice(value, FINISH_REASONS), delay)  # type: ignore[arg-type]


def _usage(value: At, step: At, delay: float | None, state: StepState) -> Step:
    if isinstance(value.node, Scalar) and value.node.value == "auto":
        return Usage(None, None, delay)
    f.mapping(value, USAGE_KEYS, "a mapping with input and output, or `auto`")

    def count(key: str) -> int | None:
        found = value.key(key)
        if found is None or f.scalar(found) == "auto":
            return None
        return f.integer(found, minimum=0)

    return Usage(count("input"), count("output"), delay)


def _error(value: At, step: At, delay: float | None, state: StepState) -> Step:
    return StreamError(parse_error_spec(value), delay)


def _event(value: At, step: At, delay: float | None, state: StepState) -> Step:
    f.mapping(value, EVENT_KEYS, "a mapping with data, event, id, retry")
    data_at = value.key("data")
    data: Template | dict[str, object] | list[object] | None = None
    if data_at is not None:
        if isinstance(data_at.node, (Map, Seq)):
            data = compile_json(to_plain(data_at.node))
        elif f.scalar(data_at) is not None:
            data = template(data_at)
    event_at, id_at, retry_at = value.key("event"), value.key("id"), value.key("retry")
    return Event(
        data=data,
        event=_one_line(event_at) if event_at is not None else None,
        id=_one_line(id_at) if id_at is not None else None,
        retry=f.integer(retry_at, minimum=0) if retry_at is not None else None,
        delay=delay,
    )


def _one_line(at: At) -> str:
    """An SSE field that must stay on its line: a line break would end it there and
    make the rest a field of its own (a broken or a second event)."""
    text = f.string(at, allow_numbers=True)
    if "\n" in text or "\r" in text:
        raise at.error("must be one line: a line break would split the event in two")
    return text


def _comment(value: At, step: At, delay: float | None, state: StepState) -> Step:
    text = f.string(value, allow_numbers=True)
    if "\n" in text or "\r" in text:
        raise value.error("a comment is one line; use several comment steps")
    return Comment(text, delay)


def _raw(value: At, step: At, delay: float | None, state: StepState) -> Step:
    return Raw(template(value), delay)


def _wait(value: At, step: At, delay: float | None, state: StepState) -> Step:
    return Wait(f.duration(value))


def _bare_step(value: At, step: At, delay: float | None, state: StepState) -> Step:
    kind = value.path.rsplit(".", 1)[-1]
    return _bare(kind, value, delay, step)


def _bare(kind: str, value: At | None, delay: float | None, at: At) -> Step:
    hold: float | None = None
    if value is not None:
        node = value.node
        if kind == "stall" and isinstance(node, Map):
            f.mapping(value, STALL_KEYS, "a mapping with `for`")
            for_at = value.key("for")
            hold = f.duration(for_at) if for_at is not None else None
        elif kind == "stall" and isinstance(node, Scalar) and node.value not in (None, True):
            hold = f.duration(value)
        elif not (isinstance(node, Scalar) and node.value in (None, True)) and not (
            isinstance(node, Map) and not node.items
        ):
            raise value.error(f"`{kind}` takes no value; write `- {kind}`")
    if kind == "done":
        return Done(delay)
    return Stop(kind, hold, delay)  # type: ignore[arg-type]


_PARSERS: dict[str, Callable[[At, At, float | None, StepState], Step]] = {
    "text": _content,
    "reasoning": _content,
    "refusal": _content,
    "fake": _fake,
    "tool_call": _tool_call,
    "function_call": _tool_call,
    "finish": _finish,
    "usage": _usage,
    "error": _error,
    "event": _event,
    "comment": _comment,
    "raw": _raw,
    "wait": _wait,
    **{kind: _bare_step for kind in BARE_STEPS},
}


def parse_stream(at: At) -> tuple[tuple[Step, ...], list[ScenarioError]]:
    """All steps of a `stream:` list, and the problems found (one per bad step)."""
    f.sequence(at, "a list of steps")
    state = StepState()
    steps: list[Step] = []
    errors: list[ScenarioError] = []
    for item in at.items():
        try:
            if state.stopped is not None:
                raise item.error(f"nothing plays after `{state.stopped}`; move this step before it")
            step = parse_step(item, state)
        except ScenarioError as exc:
            errors.append(exc)
            continue
        if isinstance(step, Stop):
            state.stopped = step.how
        steps.append(step)
    return tuple(steps), errors
