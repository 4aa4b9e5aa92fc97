"""Gemini, as `google-genai` (and `@google/genai` in Node) sees it over a real socket:
SSE streams and whole answers, function calls with their whole args, errors in
google.rpc shape before and inside a stream, a reset, a function-calling loop, the
SDK's default API version and v1beta, Vertex's paths, and the JSON-array stream."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import closing
from mockserver import MockServer
from mockserver.scenario import load_text

NODE = Path(__file__).parent / "node"
SCENARIOS = """
name: weather
match: {text: "(?i)weather"}
conversation:
  - stream:
      - reasoning: "The user wants the weather."
      - text: "Let me check. "
        split: words
      - tool_call: {name: get_weather, arguments: {city: Paris, unit: celsius}}
      - finish: tool_calls
      - usage: {input: 12, output: 9}
  - match: {tool_result: {name: get_weather, contains: sunny}}
    stream:
      - text: "It is sunny in Paris."
        split: words
---
name: limited
match: {text: "(?i)limit"}
status: 429
error: {message: "Resource has been exhausted (e.g. check quota)."}
---
name: broken
match: {text: "(?i)broken"}
stream:
  - text: "Half an answer"
  - error: {message: "The model is overloaded.", type: server_error}
---
name: cut
match: {text: "(?i)cut"}
stream:
  - text: "Half"
  - reset
"""


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(load_text(SCENARIOS, "<gemini>"), strict=True) as running:
        yield running


def client(server: MockServer, version: str | None = None, **options: Any) -> Any:
    """A google-genai client, kept (its HTTP client closes when it is collected) and
    closed when the test ends."""
    from google import genai

    http: dict[str, Any] = {"base_url": server.url}
    if version is not None:
        http["api_version"] = version
    return closing(genai.Client(api_key="test-key", http_options=http, **options))


def streamed(chunks: Iterator[Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {"text": [], "thoughts": [], "calls": [], "finish": None, "usage": None}
    for chunk in chunks:
        for part in chunk.candidates[0].content.parts:
            if part.function_call is not None:
                seen["calls"].append((part.function_call.name, part.function_call.args))
                assert part.thought_signature  # valid base64: the SDK decoded it
            elif part.thought:
                seen["thoughts"].append(part.text)
            elif part.text:
                seen["text"].append(part.text)
        if chunk.candidates[0].finish_reason is not None:
            seen["finish"] = chunk.candidates[0].finish_reason.value
        meta = chunk.usage_metadata
        seen["usage"] = (meta.prompt_token_count, meta.candidates_token_count, meta.total_token_count)
    return seen


@pytest.mark.parametrize("version", [None, "v1beta"])  # the SDK's default (v1 since 3.0), and v1beta
def test_stream_text_and_a_function_call(server: MockServer, version: str | None) -> None:
    seen = streamed(
        client(server, version).models.generate_content_stream(
            model="gemini-2.5-flash", contents="weather in Paris?"
        )
    )
    assert seen["text"] == ["Let", " me", " check. "]
    assert seen["thoughts"] == ["The user wants the weather."]
    assert seen["calls"] == [("get_weather", {"city": "Paris", "unit": "celsius"})]
    assert seen["finish"] == "STOP"  # Gemini has no tool finish reason
    assert seen["usage"] == (12, 9, 21)  # running totals; the last has it all
    expected = "/v1beta/" if version == "v1beta" else "/v1/"
    assert server.requests[-1].path == expected + "models/gemini-2.5-flash:streamGenerateContent"


def test_generate_content_whole(server: MockServer) -> None:
    answer = client(server).models.generate_content(model="gemini-2.5-flash", contents="weather?")
    assert answer.text == "Let me check. "
    assert [(c.name, c.args) for c in answer.function_calls or ()] == [
        ("get_weather", {"city": "Paris", "unit": "celsius"})
    ]
    assert answer.candidates[0].finish_reason.value == "STOP"
    assert answer.usage_metadata.total_token_count == 21


def test_a_429_is_an_api_error_with_its_code(server: MockServer) -> None:
    from google.genai import errors

    with pytest.raises(errors.ClientError) as raised:
        client(server).models.generate_content(model="gemini-2.5-flash", contents="over the limit")
    assert raised.value.code == 429 and raised.value.status == "RESOURCE_EXHAUSTED"
    assert "exhausted" in (raised.value.message or "")


def test_an_in_stream_error_raises_after_the_text(server: MockServer) -> None:
    from google.genai import errors

    got = []
    with pytest.raises(errors.ServerError) as raised:
        for chunk in client(server).models.generate_content_stream(
            model="gemini-2.5-flash", contents="broken"
        ):
            got.append(chunk.text)
    assert got == ["Half an answer"] and raised.value.code == 500


def test_a_reset_raises(server: MockServer) -> None:
    """google-genai reads with httpx2 (a vendored httpx): a reset is its ReadError, unwrapped."""
    got = []
    with pytest.raises(Exception) as raised:  # the class is httpx2's, checked below
        for chunk in client(server).models.generate_content_stream(model="gemini-2.5-flash", contents="cut"):
            got.append(chunk.text)
    assert got == ["Half"]
    assert type(raised.value).__name__ in ("ReadError", "RemoteProtocolError"), repr(raised.value)


def test_a_two_turn_function_calling_loop(server: MockServer) -> None:
    from google.genai import types

    gemini = client(server)
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text="weather in Paris?")])]
    first = gemini.models.generate_content(model="gemini-2.5-flash", contents=contents)
    call = first.function_calls[0]
    contents.append(first.candidates[0].content)  # the model's turn, signature and all
    contents.append(
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name=call.name, response={"result": "sunny, 22C"})],
        )
    )
    second = gemini.models.generate_content(model="gemini-2.5-flash", contents=contents)
    assert second.text == "It is sunny in Paris."
    assert [e.turn for e in server.requests[-2:]] == [1, 2]
    assert server.take_misses() == []


def test_vertex_express_and_project_paths(server: MockServer) -> None:
    from google import genai

    express = closing(genai.Client(vertexai=True, api_key="k", http_options={"base_url": server.url}))
    seen = streamed(express.models.generate_content_stream(model="gemini-2.5-flash", contents="weather?"))
    assert seen["calls"] == [("get_weather", {"city": "Paris", "unit": "celsius"})]
    assert (
        server.requests[-1].path == "/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
    )
    project = (
        "/v1beta1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    body = {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}]}
    answer = httpx.post(server.url + project, json=body, timeout=10).json()
    parts = answer["candidates"][0]["content"]["parts"]
    assert [p.get("text") for p in parts if not p.get("thought")] == ["Let me check. ", None]


def test_without_alt_the_stream_is_one_json_array(server: MockServer) -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}]}
    answer = httpx.post(server.url + path, json=body, timeout=10)
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.text.startswith("[{") and answer.text.endswith("}]")
    chunks = json.loads(answer.text)
    assert [c["candidates"][0].get("finishReason") for c in chunks][-1] == "STOP"
    assert (
        "".join(
            p.get("text", "")
            for c in chunks
            for p in c["candidates"][0]["content"]["parts"]
            if not p.get("thought")
        )
        == "Let me check. "
    )


def test_a_bad_request_is_invalid_argument(server: MockServer) -> None:
    answer = httpx.post(server.url + "/v1beta/models/m:generateContent", json={"contents": []}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE / "node_modules" / "@google" / "genai").is_dir(),
    reason="needs node and `npm install --prefix tests/node` (README's test command does it)",
)
def test_the_node_sdk_streams_text_and_a_function_call(server: MockServer) -> None:
    done = subprocess.run(
        ["node", str(NODE / "gemini_stream.mjs")],
        env={**os.environ, "GEMINI_BASE_URL": server.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "text": "Let me check. ",
        "calls": [{"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}}],
        "finish": "STOP",
    }
