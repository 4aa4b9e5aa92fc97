"""`conversation:` scenarios: turn k of a conversation gets conversation[k-1], the
last repeats; a turn's own `responses:` are walked by retries of that turn; two
conversations at once keep their own turns; a turn's guard explains its miss."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest

from helpers import ServeFactory, async_openai_client, openai_client
from mockserver import MockServer, ScenarioErrors
from mockserver.scenario import load_text

AGENT = """
name: weather-agent
match: {text: "(?i)weather"}
conversation:
  - stream: [{tool_call: {name: get_weather, arguments: {city: Paris}, pieces: 3}}]
  - match: {tool_result: {name: get_weather, contains: sunny}}
    responses:
      - {status: 503, headers: {retry-after-ms: "10"}}
      - stream: [{text: "It is sunny in Paris."}]
  - stream: [{text: "Anything else about {{ request.last_message }}?"}]
"""
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(AGENT, time_scale=0, strict=True)


def run_loop(client: Any, question: str, result: str) -> list[str]:
    """A manual tool loop as the openai SDK guide writes it, three turns long."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS).choices[0].message
    (call,) = first.tool_calls
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": result},
    ]
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS).choices[0].message
    messages += [second.model_dump(exclude_none=True), {"role": "user", "content": "weather tomorrow"}]
    third = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS).choices[0].message
    return [call.function.name, second.content, third.content]


def test_a_tool_loop_with_a_retry_inside_a_turn(server: MockServer) -> None:
    client = openai_client(server, max_retries=2)
    assert run_loop(client, "Weather in Paris?", "sunny") == [
        "get_weather",
        "It is sunny in Paris.",
        "Anything else about weather tomorrow?",
    ]
    assert [(e.turn, e.status) for e in server.requests] == [(1, 200), (2, 503), (2, 200), (3, 200)]
    assert len({e.conversation for e in server.requests}) == 1


def test_two_conversations_interleaved_keep_their_turns(server: MockServer) -> None:
    client = openai_client(server, max_retries=2)
    first_a = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "weather A?"}], tools=TOOLS
    )
    first_b = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "weather B?"}], tools=TOOLS
    )
    for question, first in (("weather A?", first_a), ("weather B?", first_b)):
        message = first.choices[0].message
        (call,) = message.tool_calls or []
        messages = [
            {"role": "user", "content": question},
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ]
        # each conversation's turn 2 starts at its own 503: the other's retry did not use it up
        second = client.chat.completions.create(model="m", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        assert second.choices[0].message.content == "It is sunny in Paris."
    statuses = [(e.conversation, e.turn, e.status) for e in server.requests]
    assert [s for _, _, s in statuses] == [200, 200, 503, 200, 503, 200]
    assert len({c for c, _, _ in statuses}) == 2


async def test_async_clients_at_once(server: MockServer) -> None:
    async def one(question: str) -> str | None:
        client = async_openai_client(server, max_retries=2)
        messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
        first = (
            (await client.chat.completions.create(model="m", messages=messages, tools=TOOLS))
            .choices[0]
            .message
        )  # type: ignore[arg-type]
        (call,) = first.tool_calls or []
        messages += [
            first.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ]
        second = await client.chat.completions.create(model="m", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        await client.close()
        return second.choices[0].message.content

    answers = await asyncio.gather(*(one(f"weather {n}?") for n in range(5)))
    assert answers == ["It is sunny in Paris."] * 5


def first_turn(client: Any) -> tuple[Any, Any]:
    """Ask "weather?": the assistant message (a tool call) and its one call."""
    first = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "weather?"}], tools=TOOLS
    )
    message = first.choices[0].message
    (call,) = message.tool_calls or []
    return message, call


def test_a_failed_turn_guard_explains_itself(server: MockServer) -> None:
    client = openai_client(server)
    message, call = first_turn(client)
    messages = [
        {"role": "user", "content": "weather?"},
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "raining"},
    ]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="m", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert (
        f"weather-agent, turn 2 (of 3): tool_result: none with name 'get_weather', contains 'sunny' "
        f"(the request had get_weather ({call.id}): 'raining')"
    ) in str(caught.value)
    assert server.take_misses()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("conversation: []\n", "s.yaml:1: conversation: needs at least one turn"),
        (
            "conversation: [{stream: [{text: a}], mach: {turn: 1}}]\n",
            "unknown key 'mach' (did you mean 'match'?)",
        ),
        (
            "responses: [{status: 503}]\nconversation: [{stream: [{text: a}]}]\n",
            "give `responses` or `conversation`, not both",
        ),
        ("stream: [{text: a}]\nconversation: [{stream: [{text: a}]}]\n", "`stream` belongs to a response"),
    ],
)
def test_conversation_errors_point_at_file_line_and_key(text: str, says: str) -> None:
    with pytest.raises(ScenarioErrors) as caught:
        load_text(text, "s.yaml")
    assert says in "\n".join(e.format() for e in caught.value.errors)


def test_ids_and_arguments_that_do_not_echo_become_warnings(server: MockServer) -> None:
    client = openai_client(server)
    message, call = first_turn(client)
    echoed = message.model_dump(exclude_none=True)
    echoed["tool_calls"][0]["function"]["arguments"] = '{"city": "Rome"}'  # not what was streamed
    messages = [
        {"role": "user", "content": "weather?"},
        echoed,
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_made_up", "content": "sunny"},
    ]
    client.with_options(max_retries=2).chat.completions.create(model="m", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    warnings = server.requests[-1].warnings
    assert warnings == [
        "tool result for 'call_made_up': mockserver made no such call in this conversation",
        f'call {call.id!r} (get_weather) came back with arguments \'{{"city": "Rome"}}\'; '
        'mockserver streamed \'{"city":"Paris"}\'',
    ]
    assert server.requests[0].warnings is None


def test_anthropic_ids_echo_without_warnings(server: MockServer) -> None:
    import anthropic

    with anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=2) as claude:
        ask: dict[str, Any] = {
            "model": "claude-test",
            "max_tokens": 100,
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        }
        messages: list[dict[str, Any]] = [{"role": "user", "content": "weather?"}]
        first = claude.messages.create(messages=messages, **ask)  # type: ignore[arg-type]
        (use,) = [b for b in first.content if b.type == "tool_use"]
        messages += [
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
        ]
        final = claude.messages.create(messages=messages, **ask)  # type: ignore[arg-type]
    assert final.content[0].text == "It is sunny in Paris."  # type: ignore[union-attr]
    assert [e.warnings for e in server.requests] == [None, None, None]


def test_show_renders_one_turn(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    from mockserver.cli import main

    scenarios = str(Path(__file__).resolve().parent.parent / "scenarios")
    assert main(["show", "agent-trip", scenarios, "--turn", "2"]) == 0
    out = capsys.readouterr().out
    assert "agent-trip · response 2 of 3 · chat · body · status 503" in out
    assert "agent-trip · response 3 of 3 · chat · stream · status 200" in out
    assert "response 1 of 3" not in out
    assert main(["show", "hello-stream", scenarios, "--turn", "2"]) == 1
    assert "--turn applies to conversation scenarios" in capsys.readouterr().err
