"""Responses keeps state: `previous_response_id` continues a conversation from the
answers the server kept (bounded), `GET`/`DELETE /v1/responses/{id}`, an unknown id
is OpenAI's 400 `previous_response_not_found`, and `store: false` keeps nothing."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from helpers import WEATHER_AGENT, ServeFactory, openai_client
from mockserver import MockServer

AGENT = WEATHER_AGENT
TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(AGENT, time_scale=0, strict=True)


@pytest.mark.parametrize("stream", [False, True])
def test_previous_response_id_continues_the_conversation(server: MockServer, stream: bool) -> None:
    client = openai_client(server)
    if stream:
        with client.responses.stream(model="gpt-4.1", input="Weather in Paris?", tools=TOOLS) as events:  # type: ignore[arg-type]
            first = events.get_final_response()
    else:
        first = client.responses.create(model="gpt-4.1", input="Weather in Paris?", tools=TOOLS)  # type: ignore[arg-type]
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert json.loads(call.arguments) == {"city": "Paris"}
    second = client.responses.create(
        model="gpt-4.1",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    assert second.output_text == "It is sunny in Paris."
    assert [e.turn for e in server.requests] == [1, 2] and server.requests[-1].warnings is None
    kept = client.responses.retrieve(first.id)
    assert kept.id == first.id and kept.output[0].type == "function_call"


def test_an_unknown_previous_response_id_is_a_400(server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(server).responses.create(model="m", previous_response_id="resp_nope", input="weather?")
    assert caught.value.code == "previous_response_not_found"
    assert caught.value.param == "previous_response_id"
    assert "Previous response with id 'resp_nope' not found." in str(caught.value)


def test_delete_and_store_false(server: MockServer) -> None:
    client = openai_client(server)
    first = client.responses.create(model="m", input="weather?", tools=TOOLS)  # type: ignore[arg-type]
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    unkept = client.responses.create(model="m", input="weather?", tools=TOOLS, store=False)  # type: ignore[arg-type]
    assert httpx.get(f"{server.openai_url}/responses/{unkept.id}").status_code == 404


def test_the_store_is_bounded(serve: ServeFactory) -> None:
    server = serve(AGENT, time_scale=0, store_size=2)
    client = openai_client(server)
    ids = [client.responses.create(model="m", input=f"weather {n}?", tools=TOOLS).id for n in range(3)]  # type: ignore[arg-type]
    assert httpx.get(f"{server.openai_url}/responses/{ids[0]}").status_code == 404
    assert httpx.get(f"{server.openai_url}/responses/{ids[2]}").status_code == 200
