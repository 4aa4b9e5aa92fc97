"""Anthropic Messages (`/v1/messages`) through the real anthropic SDK."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anthropic
import httpx
import pytest
from anthropic import Anthropic, AsyncAnthropic

from helpers import INTERLEAVED, ServeFactory, raw_chunks
from mockserver import MockServer

MODEL = "claude-test-1"  # a name the SDK has no deprecation warning for
ASK = {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}
SCENARIOS = """
scenarios:
  - name: text
    split: words
    stream:
      - comment: keep-alive
      - text: "Hello from Claude."
      - usage: {input: 9, output: 3}
  - name: tools
    stream:
      - reasoning: "They want the weather."
      - text: "Let me look. "
      - tool_call: {name: get_weather, arguments: {city: Paris, days: 2}, pieces: 4}
  - name: overloaded
    stream:
      - text: "par"
      - error: {message: Overloaded, type: overloaded_error}
  - name: rate-limited
    status: 429
    headers: {retry-after: "0"}
  - name: cut
    stream:
      - text: "cut"
      - finish: length
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


@pytest.fixture
def client() -> Iterator[Callable[[MockServer, str], Anthropic]]:
    """Anthropic clients closed at teardown (their pooled sockets would warn)."""
    made: list[Anthropic] = []

    def make(server: MockServer, name: str) -> Anthropic:
        made.append(Anthropic(base_url=server.url_for(name), api_key="k", max_retries=0))
        return made[-1]

    yield make
    for one in made:
        one.close()


Client = Callable[[MockServer, str], Anthropic]


def test_raw_events(server: MockServer, client: Client) -> None:
    events = list(client(server, "text").messages.create(**ASK, stream=True))
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == "Hello from Claude."
    assert events[-2].delta.stop_reason == "end_turn" and events[-2].usage.output_tokens == 3
    assert events[0].message.usage.input_tokens == 9 and events[0].message.model == MODEL


def test_every_event_has_an_event_line(server: MockServer, client: Client) -> None:
    _, headers, chunks, _ = raw_chunks(server.port, "/s/text/v1/messages", {**ASK, "stream": True})
    body = b"".join(chunks).decode()
    blocks = [b for b in body.split("\n\n") if b]
    assert all(b.startswith("event: ") for b in blocks)
    assert "event: ping" in body and "[DONE]" not in body
    assert headers["request-id"].startswith("req_")


def test_stream_helper_text_and_final_message(server: MockServer, client: Client) -> None:
    with client(server, "text").messages.stream(**ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello from Claude." and final.content[0].text == text


def test_tool_use_and_thinking_accumulate(server: MockServer, client: Client) -> None:
    with client(server, "tools").messages.stream(**ASK) as stream:
        final = stream.get_final_message()
    thinking, text, tool = final.content
    assert (
        thinking.type == "thinking" and thinking.thinking == "They want the weather." and thinking.signature
    )
    assert text.text == "Let me look. "
    assert tool.type == "tool_use" and tool.name == "get_weather" and tool.id.startswith("toolu_")
    assert tool.input == {"city": "Paris", "days": 2}
    assert final.stop_reason == "tool_use"


def test_error_event_raises(server: MockServer, client: Client) -> None:
    with pytest.raises(anthropic.APIStatusError) as caught:
        for _ in client(server, "overloaded").messages.create(**ASK, stream=True):
            pass
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


def test_error_status_in_anthropics_shape(server: MockServer, client: Client) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        client(server, "rate-limited").messages.create(**ASK)
    body = caught.value.body
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert body["request_id"] == caught.value.request_id and body["request_id"].startswith("req_")


def test_bad_request_in_anthropics_shape(server: MockServer, client: Client) -> None:
    missing = {k: v for k, v in ASK.items() if k != "max_tokens"}
    response = httpx.post(server.url_for("text") + "/v1/messages", json=missing)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    assert body["request_id"] == response.headers["request-id"]


def test_non_stream_message_and_max_tokens(server: MockServer, client: Client) -> None:
    message = client(server, "tools").messages.create(**ASK)
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[2].input == {"city": "Paris", "days": 2}
    cut = client(server, "cut").messages.create(**ASK)
    assert cut.stop_reason == "max_tokens"


def test_x_api_key_and_bearer_both_work(server: MockServer, client: Client) -> None:
    # anthropic 0.x sends X-Api-Key, 2.x Authorization: Bearer; neither is refused
    for headers in (
        {"x-api-key": "k", "anthropic-version": "2023-06-01"},
        {"authorization": "Bearer k", "anthropic-version": "2026-10-21"},
    ):
        response = httpx.post(server.url_for("text") + "/v1/messages", json=ASK, headers=headers)
        assert response.status_code == 200 and response.json()["content"][0]["text"] == "Hello from Claude."


async def test_async_stream(server: MockServer, client: Client) -> None:
    async_client = AsyncAnthropic(base_url=server.url_for("text"), api_key="k")
    async with async_client.messages.stream(**ASK) as stream:
        text = "".join([t async for t in stream.text_stream])
    assert text == "Hello from Claude."
    await async_client.close()


def test_auto_responder_uses_a_required_tool(server: MockServer, client: Client) -> None:
    auto = client(server, "x")
    auto = auto.with_options(base_url=server.url)
    tools = [{"name": "search", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]
    message = auto.messages.create(**ASK, tools=tools, tool_choice={"type": "any"})
    assert message.content[0].type == "tool_use" and message.content[0].name == "search"
    assert isinstance(message.content[0].input["q"], str)
    plain = auto.messages.create(**ASK)
    assert plain.content[0].type == "text" and len(plain.content[0].text.split()) > 3


def test_interleaved_tool_calls_arrive_one_block_after_another(
    serve: ServeFactory, client: Callable[[MockServer, str], Anthropic]
) -> None:
    # The real API never interleaves content blocks, and clients that attach a delta
    # to the open block only (LiteLLM) would lose the first call's late fragment.
    server = serve(INTERLEAVED, time_scale=0)
    with client(server, "interleaved").messages.stream(**ASK) as stream:
        events = [e for e in stream if e.type.startswith("content_block")]
        final = stream.get_final_message()
    order = [(e.type, e.index) for e in events]
    assert order == [
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_delta", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
    ]
    inputs = [(b.name, b.input) for b in final.content if b.type == "tool_use"]
    assert inputs == [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "Asia/Tokyo"})]


def test_message_delta_carries_the_input_tokens(
    server: MockServer, client: Callable[[MockServer, str], Anthropic]
) -> None:
    with client(server, "text").messages.stream(**ASK) as stream:
        (delta,) = [e for e in stream if e.type == "message_delta"]
    assert delta.usage.input_tokens == 9 and delta.usage.output_tokens == 3
    assert delta.usage.cache_read_input_tokens == 0


def test_langchain_anthropic_reports_the_input_tokens(server: MockServer) -> None:
    # langchain-anthropic takes a stream's input tokens from message_delta only
    from langchain_anthropic import ChatAnthropic

    llm = ChatAnthropic(  # type: ignore[call-arg]
        model=MODEL, base_url=server.url_for("text"), api_key="k", max_retries=0, streaming=True
    )
    total = None
    for chunk in llm.stream("Hi"):
        total = chunk if total is None else total + chunk
    assert total is not None and total.content == "Hello from Claude."
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == 9 and total.usage_metadata["output_tokens"] == 3


def test_a_block_held_back_goes_out_before_the_stream_breaks(serve: ServeFactory) -> None:
    cut = INTERLEAVED.replace("name: interleaved", "name: cut-short").replace(
        "finish: tool_calls", "disconnect"
    )
    server = serve(cut, time_scale=0)
    _, _, chunks, terminated = raw_chunks(server.port, "/s/cut-short/v1/messages", {**ASK, "stream": True})
    body = b"".join(chunks).decode()
    assert not terminated
    # the second call waited for the first, which never closed: it is sent before the drop
    assert body.index('"index":0') < body.index('"index":1')
    assert all(piece in body for piece in ('{\\"tz\\":', '\\"Asia/', 'Tokyo\\"}', '\\"Paris\\"}'))
