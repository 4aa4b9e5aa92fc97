"""Ollama's native API (`/api/chat`, `/api/generate`, `/api/tags`) through the real
`ollama` Python client, over a real socket: NDJSON streams, whole tool calls, the
last line's counts, errors before and inside a stream, and the faults."""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from helpers import ServeFactory, closing, raw_chunks
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: hello
    split: words
    stream:
      - text: "Hello from Ollama"
      - usage: {input: 7, output: 3}
  - name: tool
    stream:
      - text: "Let me check. "
      - tool_call: {name: get_weather, arguments: {city: Paris}, pieces: 3}
  - name: thinking
    stream:
      - reasoning: "Think first."
      - text: "Then answer."
  - name: broken
    stream:
      - text: "par"
      - error: {message: the model failed}
  - name: drop
    split: words
    stream:
      - text: "one two"
      - disconnect
  - name: cut
    stream:
      - text: "half"
      - reset
  - name: quiet-end
    stream:
      - text: "no last line"
      - end
  - name: missing
    status: 404
    error: {message: "model 'llama9' not found"}
  - name: long
    stream:
      - text: "enough"
      - finish: length
"""
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
ASK = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


def client(server: MockServer, name: str | None = None) -> ollama.Client:
    made: ollama.Client = closing(ollama.Client(host=server.url_for(name) if name else server.url))
    return made


def test_chat_stream_and_the_last_line(server: MockServer) -> None:
    parts = list(client(server, "hello").chat(model="llama3.2", messages=ASK, stream=True))
    assert "".join(p.message.content or "" for p in parts) == "Hello from Ollama"
    assert [p.done for p in parts] == [False, False, False, True]
    last = parts[-1]
    assert last.done_reason == "stop" and last.prompt_eval_count == 7 and last.eval_count == 3
    assert last.model == "llama3.2" and last.created_at


def test_the_wire_is_ndjson(server: MockServer) -> None:
    status, headers, chunks, terminated = raw_chunks(
        server.port, "/s/hello/api/chat", {"model": "m", "messages": ASK}
    )  # no "stream": Ollama streams by default
    body = b"".join(chunks)
    assert status == 200 and terminated and headers["content-type"] == "application/x-ndjson"
    lines = body.split(b"\n")
    assert lines[-1] == b"" and b"" not in lines[:-1]  # no blank lines: the client parses each
    assert [json.loads(line)["done"] for line in lines[:-1]] == [False, False, False, True]
    assert b"data:" not in body and b"[DONE]" not in body


def test_generate_stream_and_whole(server: MockServer) -> None:
    parts = list(client(server, "hello").generate(model="llama3.2", prompt="hi", stream=True))
    assert "".join(p.response for p in parts) == "Hello from Ollama" and parts[-1].done
    whole = client(server, "hello").generate(model="llama3.2", prompt="hi")
    assert whole.response == "Hello from Ollama" and whole.eval_count == 3


def test_a_tool_call_arrives_whole_with_an_object(server: MockServer) -> None:
    parts = list(client(server, "tool").chat(model="m", messages=ASK, tools=TOOLS, stream=True))
    calls = [c for p in parts for c in (p.message.tool_calls or [])]
    assert [(c.function.name, c.function.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert sum(1 for p in parts if p.message.tool_calls) == 1  # one line, not pieces
    whole = client(server, "tool").chat(model="m", messages=ASK, tools=TOOLS)
    assert whole.message.content == "Let me check. " and whole.done_reason == "stop"
    assert whole.message.tool_calls and whole.message.tool_calls[0].function.arguments == {"city": "Paris"}


def test_thinking(server: MockServer) -> None:
    whole = client(server, "thinking").chat(model="m", messages=ASK)
    assert whole.message.thinking == "Think first." and whole.message.content == "Then answer."


def test_list_shows_the_models(server: MockServer) -> None:
    models = [m.model for m in client(server).list().models]
    assert "gpt-4o" in models


def test_errors_before_and_inside_a_stream(server: MockServer) -> None:
    with pytest.raises(ollama.ResponseError) as inside:
        list(client(server, "broken").chat(model="m", messages=ASK, stream=True))
    assert inside.value.error == "the model failed" and inside.value.status_code == -1
    with pytest.raises(ollama.ResponseError) as before:
        client(server, "missing").chat(model="llama9", messages=ASK)
    assert before.value.status_code == 404 and "llama9" in before.value.error
    bad = httpx.post(
        server.url_for("hello") + "/api/chat", json={"messages": ASK}
    )  # the client checks this too
    assert bad.status_code == 400 and bad.json() == {"error": "model is required"}


def test_a_drop_or_reset_mid_stream_is_an_exception_not_a_quiet_success(server: MockServer) -> None:
    for name in ("drop", "cut"):
        seen: list[str] = []
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            for part in client(server, name).chat(model="m", messages=ASK, stream=True):
                seen.append(part.message.content or "")
        assert seen[:1] == ["one" if name == "drop" else "half"]


def test_a_clean_end_without_the_last_line(server: MockServer) -> None:
    parts = list(client(server, "quiet-end").chat(model="m", messages=ASK, stream=True))
    assert [p.done for p in parts] == [False]  # what the client sees: no error, no done line


def test_length_finish(server: MockServer) -> None:
    assert client(server, "long").chat(model="m", messages=ASK).done_reason == "length"


def test_chaos_on_ollama_is_seeded_and_ndjson(serve: ServeFactory) -> None:
    def faults(seed: int) -> list[tuple[int, bytes]]:
        server = serve(
            SCENARIOS,
            time_scale=0,
            chaos=1.0,
            chaos_seed=seed,
            chaos_faults=["malformed", "error-event", "500"],
        )
        out = []
        for _ in range(6):
            status, _, chunks, _ = raw_chunks(
                server.port, "/s/hello/api/chat", {"model": "m", "messages": ASK}
            )
            out.append((status, b"".join(chunks)))
        return out

    first = faults(4)
    assert first == faults(4)
    bodies = b"".join(body for _, body in first)
    assert b"data:" not in bodies
    assert any(b'{"error":' in body for _, body in first)


def test_steps_ollama_has_no_form_for_are_said_in_the_journal_and_in_show(
    serve: ServeFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from mockserver.cli import main

    server = serve(
        "{name: extras, stream: [{comment: keep-alive}, {text: hi}, {event: {data: x}}, done]}", time_scale=0
    )
    parts = list(client(server, "extras").chat(model="m", messages=ASK, stream=True))
    assert "".join(p.message.content or "" for p in parts) == "hi"
    assert server.requests[-1].skipped == ["comment", "event", "done"]
    scenarios = Path(__file__).resolve().parent.parent / "scenarios"
    assert main(["show", "sse-extras", str(scenarios), "--api", "ollama"]) == 0
    assert "(left out: ollama has no form for comment, event, done)" in capsys.readouterr().out
    assert main(["show", "sse-extras", str(scenarios), "--api", "chat"]) == 0
    assert "left out" not in capsys.readouterr().out
