"""Node tree → Scenario values: the scenario, its responses and its match rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ScenarioError
from . import fields as f
from .fields import At
from .model import (
    BodyRule,
    Match,
    Response,
    Scenario,
    Timing,
    ToolResultRule,
    Transport,
    Turn,
    WriteSize,
)
from .pattern import Pattern
from .source import Map, Node, Scalar, Seq, to_plain
from .steps import parse_error_spec, parse_split, parse_stream, template
from .template import Template, compile_json

RESPONSE_KEYS = (
    "status",
    "headers",
    "body",
    "error",
    "stream",
    "timing",
    "split",
    "model",
    "id",
    "created",
    "done",
    "transport",
)
SCENARIO_KEYS = ("name", "description", "match", "seed", "responses", "then", "chaos", "conversation")
TURN_KEYS = ("match", "responses")  # besides a response's own keys
MATCH_KEYS = (
    "method",
    "path",
    "headers",
    "model",
    "body",
    "text",
    "tools",
    "stream",
    "priority",
    "turn",
    "tool_result",
    "system",
    "first_message",
)
TOOL_RESULT_KEYS = ("name", "id", "contains", "regex")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # whole: no line break may follow
LINE_ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
THEN = ("repeat", "cycle")
TIMING_KEYS = ("first", "interval", "jitter")
TRANSPORT_KEYS = ("line_ending", "write_size", "headers_delay")
WRITE_SIZE_KEYS = ("min", "max")
BODY_RULES = ("regex", "contains", "equals")

T = TypeVar("T")


class Collector:
    """Gathers every problem in a document instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[ScenarioError] = []

    def read(self, at: At | None, reader: Callable[[At], T], default: T) -> T:
        if at is None:
            return default
        try:
            return reader(at)
        except ScenarioError as exc:
            self.errors.append(exc)
            return default


def parse_document(node: Node, file: str, default_name: str) -> tuple[list[Scenario], list[ScenarioError]]:
    """One YAML document: a scenario, or `scenarios:` with a list of them."""
    root = At(node, file, "", node.line)
    if isinstance(node, Map) and "scenarios" in node.items:
        try:
            f.mapping(root, ("scenarios",), "a mapping with only `scenarios:`")
            listing = root.key("scenarios")
            assert listing is not None
            f.sequence(listing, "a list of scenarios")
        except ScenarioError as exc:
            return [], [exc]
        found: list[Scenario] = []
        errors: list[ScenarioError] = []
        for item in listing.items():
            scenario, problems = parse_scenario(item, None)
            errors.extend(problems)
            if scenario is not None:
                found.append(scenario)
        return found, errors
    scenario, problems = parse_scenario(root, default_name)
    return ([scenario] if scenario is not None else []), problems


def parse_scenario(at: At, default_name: str | None) -> tuple[Scenario | None, list[ScenarioError]]:
    collect = Collector()
    if not isinstance(at.node, Map):
        return None, [at.error(f"expected a scenario (a mapping), got {f.kind_of(at.node)}")]
    collect.errors.extend(f.unknown_keys(at, SCENARIO_KEYS + RESPONSE_KEYS))
    if "responses" in at.node.items or "conversation" in at.node.items:
        collect.errors.extend(_response_keys_beside_responses(at))
    if "responses" in at.node.items and "conversation" in at.node.items:
        conversation_at = at.key("conversation")
        assert conversation_at is not None
        collect.errors.append(conversation_at.error("give `responses` or `conversation`, not both"))

    name = collect.read(at.key("name"), _name, default_name)
    if name is None:
        collect.errors.append(at.error("a scenario in a `scenarios:` list needs a `name`"))
    description = collect.read(at.key("description"), f.string, "")
    match = collect.read(at.key("match"), parse_match, None)
    seed = collect.read(at.key("seed"), f.integer, None)
    cycle = collect.read(at.key("then"), lambda a: f.choice(a, THEN) == "cycle", False)
    chaos = collect.read(at.key("chaos"), f.boolean, True)

    responses_at = at.key("responses")
    conversation_at = at.key("conversation")
    responses: list[Response] = []
    turns: list[Turn] = []
    if responses_at is not None:
        responses = _response_list(responses_at, collect)
    elif conversation_at is not None:
        turns = _conversation(conversation_at, collect)
        responses = [response for turn in turns for response in turn.responses]
    else:
        response = parse_response(at, collect, item_keys_only=False)
        if response is not None:
            responses.append(response)

    if collect.errors or name is None:
        return None, collect.errors
    return (
        Scenario(
            name=name,
            description=description,
            match=match,
            seed=seed,
            responses=tuple(responses),
            cycle=cycle,
            chaos=chaos,
            conversation=tuple(turns),
            file=at.file,
            line=at.line,
        ),
        [],
    )


def _response_list(at: At, collect: Collector) -> list[Response]:
    responses: list[Response] = []
    try:
        f.sequence(at, "a list of responses")
        if isinstance(at.node, Seq) and not at.node.items:
            raise at.error("needs at least one response")
        for item in at.items():
            response = parse_response(item, collect, item_keys_only=True)
            if response is not None:
                responses.append(response)
    except ScenarioError as exc:
        collect.errors.append(exc)
    return responses


def _conversation(at: At, collect: Collector) -> list[Turn]:
    """`conversation:`: a list of turns, each a response (or `responses:`) with an
    optional `match:` guard."""
    turns: list[Turn] = []
    try:
        f.sequence(at, "a list of turns")
        if isinstance(at.node, Seq) and not at.node.items:
            raise at.error("needs at least one turn")
    except ScenarioError as exc:
        collect.errors.append(exc)
        return turns
    for turn_at in at.items():
        if not isinstance(turn_at.node, Map):
            collect.errors.append(
                turn_at.error(f"expected a turn (a mapping), got {f.kind_of(turn_at.node)}")
            )
            continue
        collect.errors.extend(f.unknown_keys(turn_at, TURN_KEYS + RESPONSE_KEYS))
        guard = collect.read(turn_at.key("match"), parse_match, None)
        inner = turn_at.key("responses")
        if inner is not None:
            collect.errors.extend(_response_keys_beside_responses(turn_at))
            responses = _response_list(inner, collect)
        else:
            response = parse_response(turn_at, collect, item_keys_only=False)
            responses = [response] if response is not None else []
        if responses:
            turns.append(Turn(tuple(responses), guard, turn_at.line))
    return turns


def _response_keys_beside_responses(at: At) -> list[ScenarioError]:
    return [
        child.error(f"`{key}` belongs to a response; with `responses:` or `conversation:` put it inside each")
        for key, child in at.entries()
        if key in RESPONSE_KEYS
    ]


def _name(at: At) -> str:
    name = f.string(at, allow_numbers=True)
    if not _NAME.fullmatch(name):
        raise at.error(
            f"{name!r} is not a usable name: use letters, digits, '.', '_' and '-' "
            "(it appears in URLs as /s/NAME/)"
        )
    return name


def parse_response(at: At, collect: Collector, *, item_keys_only: bool) -> Response | None:
    if item_keys_only:
        try:
            f.mapping(at, RESPONSE_KEYS, "a response (a mapping)")
        except ScenarioError as exc:
            collect.errors.append(exc)
            return None
    before = len(collect.errors)
    status = collect.read(at.key("status"), lambda a: f.integer(a, minimum=100, maximum=599), None)
    no_headers: tuple[tuple[str, Template], ...] = ()
    headers = collect.read(at.key("headers"), _headers, no_headers)
    body = collect.read(at.key("body"), _body, None)
    error = collect.read(at.key("error"), parse_error_spec, None)
    timing = collect.read(at.key("timing"), _timing, Timing())
    split = collect.read(at.key("split"), parse_split, None)
    model = collect.read(at.key("model"), template, None)
    id_ = collect.read(at.key("id"), lambda a: f.string(a, allow_numbers=True), None)
    created = collect.read(at.key("created"), lambda a: f.integer(a, minimum=0), None)
    done = collect.read(at.key("done"), f.boolean, True)
    transport = collect.read(at.key("transport"), _transport, Transport())
    stream_at = at.key("stream")
    steps: tuple[Any, ...] = ()
    if stream_at is not None:
        try:
            steps, problems = parse_stream(stream_at)
            collect.errors.extend(problems)
        except ScenarioError as exc:
            collect.errors.append(exc)
    present = [k for k in ("stream", "body", "error") if at.key(k) is not None]
    if len(present) > 1:
        second = at.key(present[1])
        assert second is not None
        collect.errors.append(
            second.error(f"a response has one of stream, body or error; found {', '.join(present)}")
        )
    if len(collect.errors) > before:
        return None
    return Response(
        line=at.line,
        status=status,
        headers=headers,
        body=body,
        error=error,
        stream=steps,
        timing=timing,
        split=split,
        model=model,
        id=id_,
        created=created,
        done=done,
        transport=transport,
    )


def _headers(at: At) -> tuple[tuple[str, Template], ...]:
    if not isinstance(at.node, Map):
        raise at.error(f"expected a mapping of header name to value, got {f.kind_of(at.node)}")
    return tuple((name, template(value)) for name, value in at.entries())


def _body(at: At) -> Any:
    if isinstance(at.node, (Map, Seq)):
        return compile_json(to_plain(at.node))
    return template(at)


def _timing(at: At) -> Timing:
    f.mapping(at, TIMING_KEYS)
    first, interval, jitter = (at.key(k) for k in TIMING_KEYS)
    return Timing(
        first=f.duration(first) if first is not None else 0.0,
        interval=f.duration(interval) if interval is not None else 0.0,
        jitter=f.duration(jitter) if jitter is not None else 0.0,
    )


def _transport(at: At) -> Transport:
    f.mapping(at, TRANSPORT_KEYS)
    ending_at, size_at, delay_at = (at.key(k) for k in TRANSPORT_KEYS)
    write_size: WriteSize | None = None
    if size_at is not None:
        if isinstance(size_at.node, Map):
            f.mapping(size_at, WRITE_SIZE_KEYS, "a mapping with min and max")
            low_at, high_at = size_at.key("min"), size_at.key("max")
            low = f.integer(low_at, minimum=1) if low_at is not None else 1
            high = f.integer(high_at, minimum=1) if high_at is not None else low
            if high < low:
                raise size_at.error(f"max ({high}) is less than min ({low})")
            write_size = WriteSize(low, high)
        else:
            size = f.integer(size_at, minimum=1)
            write_size = WriteSize(size, size)
    return Transport(
        line_ending=LINE_ENDINGS[f.choice(ending_at, tuple(LINE_ENDINGS))] if ending_at else "\n",
        write_size=write_size,
        headers_delay=f.duration(delay_at) if delay_at is not None else 0.0,
    )


def parse_match(at: At) -> Match:
    f.mapping(at, MATCH_KEYS, "a match rule (a mapping)")
    (
        method,
        path,
        headers,
        model,
        body,
        text,
        tools,
        stream,
        priority,
        turn,
        tool_result,
        system,
        first_message,
    ) = (at.key(k) for k in MATCH_KEYS)
    return Match(
        method=f.string(method).upper() if method is not None else None,
        path=f.string(path) if path is not None else None,
        headers=_match_headers(headers) if headers is not None else (),
        model=f.string(model) if model is not None else None,
        body=_body_rules(body) if body is not None else (),
        text=_regex(text) if text is not None else None,
        tools=f.string(tools) if tools is not None else None,
        stream=f.boolean(stream) if stream is not None else None,
        priority=f.integer(priority) if priority is not None else 0,
        turn=f.integer(turn, minimum=1) if turn is not None else None,
        tool_result=_tool_result(tool_result) if tool_result is not None else None,
        system=_regex(system) if system is not None else None,
        first_message=_regex(first_message) if first_message is not None else None,
    )


def _tool_result(at: At) -> ToolResultRule:
    f.mapping(at, TOOL_RESULT_KEYS, "a mapping with name, id, contains or regex")
    name, call_id, contains, regex = (at.key(k) for k in TOOL_RESULT_KEYS)
    if contains is not None and regex is not None:
        raise at.error("give contains or regex, not both")
    return ToolResultRule(
        name=f.string(name, allow_numbers=True) if name is not None else None,
        id=f.string(call_id, allow_numbers=True) if call_id is not None else None,
        contains=f.string(contains, allow_numbers=True) if contains is not None else None,
        regex=_regex(regex) if regex is not None else None,
    )


def _regex(at: At) -> Pattern:
    try:
        return Pattern(f.string(at, allow_numbers=True))
    except ValueError as exc:
        raise at.error(f"invalid regular expression (RE2 syntax, linear time): {exc}") from None


def _match_headers(at: At) -> tuple[tuple[str, str], ...]:
    if not isinstance(at.node, Map):
        raise at.error(f"expected a mapping of header name to glob, got {f.kind_of(at.node)}")
    return tuple((name.lower(), f.string(value, allow_numbers=True)) for name, value in at.entries())


def _body_rules(at: At) -> tuple[BodyRule, ...]:
    if not isinstance(at.node, Map):
        raise at.error(f"expected a mapping of dotted path to value, got {f.kind_of(at.node)}")
    rules = []
    for dotted, value in at.entries():
        path = tuple(dotted.split("."))
        node = value.node
        if isinstance(node, Map) and len(node.items) == 1 and next(iter(node.items)) in BODY_RULES:
            how = next(iter(node.items))
            inner = value.key(how)
            assert inner is not None
            if how == "regex":
                rules.append(BodyRule(path, regex=_regex(inner), how="regex"))
            elif how == "contains":
                rules.append(BodyRule(path, contains=to_plain(inner.node), how="contains"))
            else:
                rules.append(BodyRule(path, equals=to_plain(inner.node)))
        else:
            rules.append(
                BodyRule(path, equals=to_plain(node) if not isinstance(node, Scalar) else node.value)
            )
    return tuple(rules)
