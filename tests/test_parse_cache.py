"""A request sent again is parsed once (server/parsed.py), and answered exactly as if
it were parsed again: its own ids, its own place in a sequence, its own journal entry,
the history stored for it as it stands now, a refusal every time."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from helpers import WEATHER_AGENT, ServeFactory, openai_client
from mockserver import MockServer
from mockserver.render import APIS

SCENARIOS = """
scenarios:
  - name: sequence
    responses:
      - stream: [{text: first}]
      - stream: [{text: second}]
"""
MESSAGES = [{"role": "user", "content": "the same question"}]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every body Chat's parse is asked to check (the server runs in this process)."""
    seen: list[str] = []
    chat = type(APIS["chat"])
    real = chat.parse

    def counting(self: Any, body: Any, request: Any) -> Any:
        seen.append(body["messages"][-1]["content"] if isinstance(body, dict) else repr(body))
        return real(self, body, request)

    monkeypatch.setattr(chat, "parse", counting)
    return seen


def test_the_same_request_again_is_parsed_once_and_answered_as_new(
    serve: ServeFactory, parses: list[str]
) -> None:
    server = serve(SCENARIOS, time_scale=0)
    client = openai_client(server, "sequence")
    answers = []
    for _ in range(3):
        with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:  # type: ignore[arg-type]
            chunks = list(stream)
        answers.append(("".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[0].id))
    assert [text for text, _ in answers] == ["first", "second", "second"]  # the sequence moves on
    assert len({chunk_id for _, chunk_id in answers}) == 3  # each answer has its own id
    assert parses == ["the same question"]  # parsed once, not three times
    entries = server.requests
    assert [e.json for e in entries] == [{"model": "m", "messages": MESSAGES, "stream": True}] * 3
    assert len({e.fingerprint for e in entries}) == 1 and len({e.id for e in entries}) == 3


def test_a_request_that_differs_in_a_header_is_parsed_for_itself(
    serve: ServeFactory, parses: list[str]
) -> None:
    server = serve(SCENARIOS, time_scale=0)
    texts = []
    for session in ("a", "b", "a"):
        client = openai_client(server, "sequence", default_headers={"X-Mock-Session": session})
        answer = client.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
        texts.append(answer.choices[0].message.content)
    assert texts == ["first", "first", "second"]  # each session its own sequence
    assert parses == ["the same question"] * 2  # a and b: two requests as far as parsing goes
    assert [e.headers.get("x-mock-session") for e in server.requests] == ["a", "b", "a"]


def test_a_refused_request_is_refused_every_time(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0)
    client = openai_client(server, "sequence")
    for _ in range(2):
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="m", messages=[{"role": "wizard", "content": "x"}])  # type: ignore[list-item]
        assert caught.value.status_code == 400 and caught.value.param
    assert server._call(lambda state: len(state.parsed)) == 0  # nothing kept of a refusal
    assert [e.status for e in server.requests] == [400, 400]


def test_stored_history_is_joined_as_it_stands_on_every_request(serve: ServeFactory) -> None:
    """The same continuation sent again after its previous response is deleted: parsed
    from the cache, yet refused, because the history is looked up again."""
    server: MockServer = serve(WEATHER_AGENT, time_scale=0)
    client = openai_client(server)
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    first = client.responses.create(model="m", input="Weather in Paris?", tools=tools)  # type: ignore[arg-type]
    (call,) = [item for item in first.output if item.type == "function_call"]
    again = {
        "model": "m",
        "previous_response_id": first.id,
        "input": [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        "tools": tools,
    }
    assert client.responses.create(**again).output_text == "It is sunny in Paris."  # type: ignore[call-overload]
    client.responses.delete(first.id)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(**again)  # type: ignore[call-overload]
    assert caught.value.code == "previous_response_not_found"


def test_the_cache_is_bounded_in_requests_and_body_size() -> None:
    from mockserver.render import ApiRequest
    from mockserver.server.parsed import MAX_PARSED_BODY, Parsed, ParsedCache, parse_key

    cache = ParsedCache(size=2)
    parsed = Parsed(ApiRequest("chat"), {}, "f")
    keys = [parse_key("chat", "POST", "/p", {}, {}, str(n).encode()) for n in range(3)]
    for key in keys:
        cache.put(key, parsed)
    assert len(cache) == 2 and cache.get(keys[0]) is None and cache.get(keys[2]) is parsed
    cache.put(parse_key("chat", "POST", "/p", {}, {}, b"x" * (MAX_PARSED_BODY + 1)), parsed)
    assert len(cache) == 2  # a large body is parsed every time, not kept
