"""The conversation each API's request carries (turn, tool results, system prompt),
read the way each API carries history, and the match keys and templates over it:
`turn`, `tool_result`, `system`, `{{ request.turn }}`, `{{ request.tool_results.NAME }}`.
Driven by each provider's real client through a manual tool loop."""

from __future__ import annotations

import json

import anthropic
import ollama
import openai
import pytest

from helpers import ServeFactory, closing, openai_client
from mockserver import MockServer

AGENT = """
scenarios:
  - name: ask-tool
    match: {text: "(?i)weather", turn: 1}
    stream:
      - tool_call: {name: get_weather, arguments: {city: Paris}, pieces: 3}
  - name: answer
    match:
      turn: 2
      tool_result: {name: get_weather, contains: sunny}
      system: "(?i)brief"
    stream:
      - text: "Turn {{ request.turn }}: it is {{ request.tool_results.get_weather }} in Paris."
"""
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
ANSWER = "Turn 2: it is sunny in Paris."


def weather(city: str) -> str:
    return "sunny" if city == "Paris" else "unknown"


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(AGENT, time_scale=0, strict=True)


def test_chat_tool_loop(server: MockServer) -> None:
    client = openai_client(server)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the weather in Paris?"},
    ]
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=tools) as stream:  # type: ignore[arg-type]
        first = stream.get_final_completion().choices[0].message
    (call,) = first.tool_calls or []
    messages.append(first.model_dump(exclude_none=True))
    result = weather(**json.loads(call.function.arguments))  # type: ignore[union-attr]
    messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)  # type: ignore[arg-type]
    assert final.choices[0].message.content == ANSWER
    assert [e.scenario for e in server.requests] == ["ask-tool", "answer"]


def test_responses_tool_loop_with_full_history(server: MockServer) -> None:
    client = openai_client(server)
    tools = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
    history: list[object] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.responses.create(model="gpt-4.1", input=history, tools=tools, instructions="Be brief.")  # type: ignore[arg-type]
    (call,) = [item for item in first.output if item.type == "function_call"]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append(
        {
            "type": "function_call_output",
            "call_id": call.call_id,
            "output": weather(**json.loads(call.arguments)),
        }
    )  # type: ignore[union-attr]
    final = client.responses.create(model="gpt-4.1", input=history, tools=tools, instructions="Be brief.")  # type: ignore[arg-type]
    assert final.output_text == ANSWER


def test_anthropic_tool_loop(server: MockServer) -> None:
    with anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0) as claude:
        tools = [{"name": "get_weather", "input_schema": WEATHER}]
        messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
        ask = {"model": "claude-test", "max_tokens": 200, "system": "Be brief.", "tools": tools}
        with claude.messages.stream(messages=messages, **ask) as stream:  # type: ignore[arg-type]
            first = stream.get_final_message()
        (use,) = [block for block in first.content if block.type == "tool_use"]
        messages.append({"role": "assistant", "content": [block.model_dump() for block in first.content]})
        result = weather(**use.input)  # type: ignore[arg-type]
        messages.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": result}]}
        )
        final = claude.messages.create(messages=messages, **ask)  # type: ignore[arg-type]
    assert final.content[0].type == "text" and final.content[0].text == ANSWER


def test_ollama_tool_loop(server: MockServer) -> None:
    client = closing(ollama.Client(host=server.url))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    messages: list[object] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    first = client.chat(model="llama3.2", messages=messages, tools=tools)
    (call,) = first.message.tool_calls or []
    messages.append(first.message)
    messages.append(
        {"role": "tool", "content": weather(**call.function.arguments), "tool_name": call.function.name}
    )
    final = client.chat(model="llama3.2", messages=messages, tools=tools)
    assert final.message.content == ANSWER


def second_turn_miss(server: MockServer, history: list[dict[str, str]], call_id: str, result: str) -> str:
    """Send a second turn (`history`, a get_weather call, its `result`) that no
    scenario takes; the 404's explanation."""
    call = {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        *history,
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(server).chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    server.take_misses()
    return str(caught.value)


def test_a_failed_tool_result_guard_explains_itself(server: MockServer) -> None:
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]
    message = second_turn_miss(server, history, "call_9", "raining")
    assert "ask-tool: turn is 2, the rule wants 1" in message
    assert (
        "answer: tool_result: none with name 'get_weather', contains 'sunny' (the request had get_weather (call_9): 'raining')"
        in message
    )


def test_the_system_guard_explains_itself(server: MockServer) -> None:
    message = second_turn_miss(server, [{"role": "user", "content": "Weather?"}], "c", "sunny")
    assert "answer: system '(?i)brief' not found in system prompt ''" in message
