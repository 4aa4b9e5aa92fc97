"""OpenAI Responses (`/v1/responses`) through the real openai SDK."""

from __future__ import annotations

import json

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from helpers import INTERLEAVED, ServeFactory, closing
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: text
    split: words
    stream:
      - text: "Hello from the Responses API."
      - usage: {input: 6, output: 5}
  - name: tools
    stream:
      - reasoning: "The user wants weather."
      - text: "Checking. "
      - tool_call: {name: get_weather, arguments: {city: Paris}, pieces: 3, id: call_w}
  - name: refused
    stream:
      - refusal: "I can't."
  - name: cut
    stream:
      - text: "trunc"
      - finish: length
  - name: broken
    stream:
      - text: "partial"
      - error: {message: The model failed, type: server_error, code: server_error}
  - name: failing
    status: 500
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


def client(server: MockServer, name: str) -> OpenAI:
    return closing(OpenAI(base_url=server.url_for(name) + "/v1", api_key="k", max_retries=0))


def test_typed_events_and_text_deltas(server: MockServer) -> None:
    events = list(client(server, "text").responses.create(model="gpt-4.1", input="hi", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == (
        "Hello from the Responses API."
    )
    numbers = [e.sequence_number for e in events]
    assert numbers == list(range(len(events)))
    assert len({e.response.id for e in events if hasattr(e, "response")}) == 1
    assert events[-1].response.usage.input_tokens == 6 and events[-1].response.output_text == (
        "Hello from the Responses API."
    )


def test_stream_helper_final_response(server: MockServer) -> None:
    with client(server, "tools").responses.stream(model="gpt-4.1", input="weather?") as stream:
        events = [e.type for e in stream]
        final = stream.get_final_response()
    assert [o.type for o in final.output] == ["reasoning", "message", "function_call"]
    assert final.output_text == "Checking. "
    call = final.output[2]
    assert (call.call_id, call.name, json.loads(call.arguments)) == (
        "call_w",
        "get_weather",
        {"city": "Paris"},
    )
    assert events.count("response.function_call_arguments.delta") == 3
    assert "response.reasoning_summary_text.delta" in events


def test_function_call_argument_events(server: MockServer) -> None:
    events = list(client(server, "tools").responses.create(model="m", input="x", stream=True))
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    (done,) = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert "".join(deltas) == done.arguments == '{"city":"Paris"}'


def test_refusal(server: MockServer) -> None:
    events = list(client(server, "refused").responses.create(model="m", input="x", stream=True))
    assert [e.delta for e in events if e.type == "response.refusal.delta"] == ["I can't."]


def test_finish_length_is_incomplete(server: MockServer) -> None:
    events = list(client(server, "cut").responses.create(model="m", input="x", stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    with client(server, "cut").responses.stream(model="m", input="x") as stream:
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()


def test_error_step_is_an_error_event_then_failed(server: MockServer) -> None:
    events = list(client(server, "broken").responses.create(model="m", input="x", stream=True))
    error, failed = events[-2:]
    assert error.type == "error" and error.message == "The model failed"
    assert failed.type == "response.failed" and failed.response.error.message == "The model failed"


def test_error_status(server: MockServer) -> None:
    with pytest.raises(openai.InternalServerError):
        client(server, "failing").responses.create(model="m", input="x", stream=True)


def test_non_stream_returns_the_response_object(server: MockServer) -> None:
    response = client(server, "tools").responses.create(
        model="gpt-4.1", input=[{"role": "user", "content": [{"type": "input_text", "text": "weather?"}]}]
    )
    assert response.status == "completed" and response.output_text == "Checking. "
    assert response.output[2].type == "function_call" and response.model == "gpt-4.1"


async def test_async_stream(server: MockServer) -> None:
    async_client = AsyncOpenAI(base_url=server.url_for("text") + "/v1", api_key="k")
    async with async_client.responses.stream(model="m", input="x") as stream:
        final = await stream.get_final_response()
    assert final.output_text == "Hello from the Responses API."
    await async_client.close()


def test_missing_input_is_a_400(server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError, match="input"):
        client(server, "text").responses.create(model="m")  # type: ignore[call-overload]


def test_auto_responder_calls_a_required_tool(server: MockServer) -> None:
    tools = [
        {
            "type": "function",
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        }
    ]
    auto = closing(OpenAI(base_url=server.openai_url, api_key="k"))
    response = auto.responses.create(model="m", input="x", tools=tools, tool_choice="required")
    call = response.output[0]
    assert call.type == "function_call" and call.name == "lookup"
    assert isinstance(json.loads(call.arguments)["query"], str)


def test_interleaved_tool_calls_are_output_items_one_after_another(serve: ServeFactory) -> None:
    server = serve(INTERLEAVED, time_scale=0)
    events = list(client(server, "interleaved").responses.create(model="m", input="x", stream=True))
    indexes = [e.output_index for e in events if hasattr(e, "output_index")]
    assert indexes == sorted(indexes) and set(indexes) == {0, 1}  # item 0 done before item 1 starts
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert [(e.name, json.loads(e.arguments)) for e in done] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"tz": "Asia/Tokyo"}),
    ]
