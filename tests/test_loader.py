"""Scenario validation: every problem reported as FILE:LINE: key.path: message,
with a did-you-mean where one is close; YAML loaded safely."""

from __future__ import annotations

import textwrap

import pytest

from mockserver import ScenarioErrors
from mockserver.scenario import load_mapping, load_text
from mockserver.scenario.model import Content, Stop, ToolCall


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioErrors) as caught:
        load_text(textwrap.dedent(text), "s.yaml")
    return [e.format() for e in caught.value.errors]


def test_every_problem_is_reported_with_line_and_path() -> None:
    found = problems("""\
        name: x
        stream:
          - txt: hi
          - text: hi
            dealy: 1s
          - finish: stopp
          - wait: 3 hours
        timming: {first: 1}
    """)
    assert found == [
        "s.yaml:3: stream[0]: no step kind in ['txt'] (did you mean 'text'?); steps are: text, "
        "reasoning, refusal, fake, tool_call, function_call, finish, usage, error, event, comment, "
        "raw, wait, disconnect, end, reset, stall, done",
        "s.yaml:5: stream[1].dealy: unknown key 'dealy' (did you mean 'delay'?); expected one of: "
        "delay, pieces, split, text",
        "s.yaml:6: stream[2].finish: 'stopp' is not one of: stop, length, tool_calls, "
        "content_filter, function_call (did you mean 'stop'?)",
        "s.yaml:7: stream[3].wait: expected a duration such as 250ms, 1.5s or a number of "
        "seconds, got '3 hours'",
        "s.yaml:8: timming: unknown key 'timming' (did you mean 'timing'?); expected one of: body, chaos, conversation, "
        "created, description, done, error, headers, id, match, model, name, responses, seed, "
        "split, status, stream, then, timing, transport",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [", "s.yaml:1: invalid YAML"),
        ("- 1\n- 2\n", "s.yaml:1: expected a scenario (a mapping), got a list"),
        (
            "stream:\n  - text: !!python/object:os.system x\n",
            "s.yaml:2: unknown YAML tag '!!python/object:os.system'",
        ),
        ("name: a b\n", "s.yaml:1: name: 'a b' is not a usable name"),
        ("status: 200\nresponses: [{status: 500}]\n", "s.yaml:1: status: `status` belongs to a response"),
        ("responses: []\n", "s.yaml:1: responses: needs at least one response"),
        (
            "responses:\n  - {stream: [], stauts: 1}\n",
            "s.yaml:2: responses[0].stauts: unknown key 'stauts' (did you mean 'status'?)",
        ),
        ("stream: [{text: a}]\nbody: {}\n", "s.yaml:2: body: a response has one of stream, body or error"),
        ("then: cycles\n", "s.yaml:1: then: 'cycles' is not one of: repeat, cycle (did you mean 'cycle'?)"),
        ("status: 700\n", "s.yaml:1: status: must be at most 599, got 700"),
        (
            "stream: [disconect]\n",
            "s.yaml:1: stream[0]: unknown step 'disconect' (did you mean 'disconnect'?)",
        ),
        ("stream: [{disconnect: 3}]\n", "s.yaml:1: stream[0].disconnect: `disconnect` takes no value"),
        ("stream: [end, {text: a}]\n", "s.yaml:1: stream[1]: nothing plays after `end`"),
        (
            "stream: [{text: a, split: [b, c]}]\n",
            "s.yaml:1: stream[0]: the `split` pieces do not join to the text",
        ),
        (
            "stream: [{text: a, split: words, pieces: 2}]\n",
            "s.yaml:1: stream[0].pieces: give either `split` or `pieces`",
        ),
        (
            "stream: [{tool_call: {arguments: x}}]\n",
            "s.yaml:1: stream[0].tool_call: a tool_call needs `name`",
        ),
        (
            "stream: [{tool_call: {name: a}}, {tool_call: {name: b, index: 0}}]\n",
            "s.yaml:1: stream[1].tool_call.index: a tool call at index 0 was already started",
        ),
        (
            "stream: [{text: '{{ request.modle }}'}]\n",
            "s.yaml:1: stream[0].text: unknown placeholder {{ request.modle }} (did you mean 'request.model'?)",
        ),
        ("match: {text: '('}\n", "s.yaml:1: match.text: invalid regular expression"),
        ("match: {colour: red}\n", "s.yaml:1: match.colour: unknown key 'colour'"),
        (
            "transport: {line_ending: crlf, write_size: {min: 9, max: 3}}\n",
            "s.yaml:1: transport.write_size: max (3) is less than min (9)",
        ),
        ("timing: {first: -1}\n", "s.yaml:1: timing.first: a duration cannot be negative"),
        ("stream: [{fake: poem}]\n", "s.yaml:1: stream[0].fake: 'poem' is not one of"),
        ("a: 1\na: 2\n", "s.yaml:2: a: duplicate key"),
        (
            "scenarios: [{stream: []}]\n",
            "s.yaml:1: scenarios[0]: a scenario in a `scenarios:` list needs a `name`",
        ),
        ("scenarios: [{name: a}, {name: a}]\n", "s.yaml:1: name: another scenario is already named 'a'"),
        ("", "s.yaml:1: the file holds no scenario"),
    ],
)
def test_problem_messages(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_a_good_scenario_becomes_frozen_values() -> None:
    (scenario,) = load_text(
        textwrap.dedent("""\
        description: d
        stream:
          - text: hi
            delay: 250ms
          - tool_call: {name: f, arguments: {a: 1}, pieces: 2}
          - stall: {for: 1.5s}
    """),
        "dir/my-scenario.yaml",
    )
    assert scenario.name == "my-scenario" and scenario.description == "d"
    text, call, stall = scenario.responses[0].stream
    assert isinstance(text, Content) and text.delay == 0.25
    assert isinstance(call, ToolCall) and call.index == 0 and call.arguments == {"a": 1}
    assert isinstance(stall, Stop) and stall.how == "stall" and stall.hold == 1.5
    with pytest.raises(AttributeError):
        scenario.name = "other"  # type: ignore[misc]


def test_several_documents_and_a_mapping() -> None:
    both = load_text("stream: [{text: a}]\n---\nstream: [{text: b}]\n", "two.yaml")
    assert [s.name for s in both] == ["two", "two-2"]
    (one,) = load_mapping({"name": "m", "stream": [{"text": "x"}, "done"]})
    assert one.name == "m" and len(one.responses[0].stream) == 2


def test_sse_event_names_and_ids_stay_on_one_line() -> None:
    # a line break would end the field there and start another: one event becomes two
    found = problems("""\
        name: x
        stream:
          - event: {event: "a\\nb", data: x}
          - event: {id: "1\\r\\n2", data: x}
    """)
    assert found == [
        "s.yaml:3: stream[0].event.event: must be one line: a line break would split the event in two",
        "s.yaml:4: stream[1].event.id: must be one line: a line break would split the event in two",
    ]


@pytest.mark.parametrize(
    ("match", "says"),
    [
        ("{turn: 0}", "s.yaml:2: match.turn: must be at least 1"),
        (
            "{tool_result: {name: f, contains: a, regex: b}}",
            "s.yaml:2: match.tool_result: give contains or regex, not both",
        ),
        ("{sytem: x}", "s.yaml:2: match.sytem: unknown key 'sytem' (did you mean 'system'?)"),
        (
            "{tool_result: {nme: f}}",
            "s.yaml:2: match.tool_result.nme: unknown key 'nme' (did you mean 'name'?)",
        ),
    ],
)
def test_conversation_match_keys_are_checked_where_they_stand(match: str, says: str) -> None:
    found = problems(f"name: x\nmatch: {match}\nstream: [{{text: y}}]\n")
    assert found[0].startswith(says), found


def test_conversation_templates() -> None:
    found = problems('name: x\nstream: [{text: "{{ request.tool_result.f }}"}]\n')
    assert (
        "unknown placeholder {{ request.tool_result.f }} (did you mean 'request.tool_results'?)" in found[0]
    )
