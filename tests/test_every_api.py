"""One API-neutral scenario played on every endpoint, each SDK the judge; the same
bytes for the same seed; and the clients beyond the Python SDKs (Node, LangChain)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from openai import OpenAI

from helpers import ServeFactory, closing, raw_chunks
from mockserver import MockServer

NEUTRAL = """
name: neutral
split: words
stream:
  - text: "Let me check the weather. "
  - tool_call: {name: get_weather, arguments: {location: Tokyo, unit: celsius}, pieces: 4}
  - usage: {input: 12, output: 9}
"""
TEXT = "Let me check the weather. "
ARGS = {"location": "Tokyo", "unit": "celsius"}
NODE = Path(__file__).resolve().parent / "node"


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(NEUTRAL, time_scale=0)


def test_the_same_scenario_on_chat_responses_and_anthropic(server: MockServer) -> None:
    base = server.url_for("neutral")
    openai_client = closing(OpenAI(base_url=base + "/v1", api_key="k"))
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}]
    ) as s:
        chat = s.get_final_completion().choices[0].message
    with openai_client.responses.stream(model="gpt-4.1", input="x") as s:
        response = s.get_final_response()
    with anthropic.Anthropic(base_url=base, api_key="k") as claude:
        with claude.messages.stream(
            model="claude-test", max_tokens=50, messages=[{"role": "user", "content": "x"}]
        ) as s:
            message = s.get_final_message()
    openai_client.close()

    assert chat.content == response.output_text == message.content[0].text == TEXT
    assert json.loads(chat.tool_calls[0].function.arguments) == ARGS
    assert json.loads(response.output[1].arguments) == ARGS
    assert message.content[1].input == ARGS
    assert chat.tool_calls[0].function.name == response.output[1].name == message.content[1].name
    assert response.usage.output_tokens == message.usage.output_tokens == 9


FAKE = """
name: faked
split: words
stream:
  - fake: sentences
    count: 2
  - tool_call: {name: f, arguments: {a: 1}}
"""
BODIES = {
    "chat/completions": {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
    "responses": {"model": "m", "input": "x", "stream": True},
    "messages": {
        "model": "m",
        "max_tokens": 9,
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
    },
    "completions": {"model": "m", "prompt": "x", "stream": True},
}


def bodies(serve: ServeFactory, seed: int) -> dict[str, bytes]:
    server = serve(FAKE, seed=seed, time_scale=0)
    out = {}
    for path, body in BODIES.items():
        _, _, chunks, _ = raw_chunks(server.port, f"/s/faked/v1/{path}", body)
        out[path] = b"".join(chunks)
    return out


def test_fake_content_is_byte_identical_per_seed_on_every_api(serve: ServeFactory) -> None:
    first, again, other = bodies(serve, 1), bodies(serve, 1), bodies(serve, 2)
    assert first == again
    for path in BODIES:
        assert first[path] != other[path], path
    # and the fake text itself differs with the seed, not only the ids
    assert chat_text(first["chat/completions"]) != chat_text(other["chat/completions"])
    assert len(chat_text(first["chat/completions"]).split()) > 4


def chat_text(body: bytes) -> str:
    events = [line[6:] for line in body.decode().splitlines() if line.startswith("data: {")]
    return "".join(
        json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events if json.loads(e)["choices"]
    )


def test_langchain_chat_openai_streams_the_text(server: MockServer) -> None:
    from langchain_openai import ChatOpenAI

    text_only = server.url_for("neutral") + "/v1"
    llm = ChatOpenAI(model="gpt-4o", base_url=text_only, api_key="k", max_retries=0)  # type: ignore[arg-type]
    chunks = list(llm.stream("What's the weather?"))
    assert "".join(str(c.content) for c in chunks) == TEXT
    calls = "".join(tc["args"] or "" for c in chunks for tc in c.tool_call_chunks)
    assert json.loads(calls) == ARGS


@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE / "node_modules" / "openai").is_dir(),
    reason="needs node and `npm install --prefix tests/node` (README's test command does it)",
)
def test_openai_node_sdk_streams_text_and_a_tool_call(server: MockServer) -> None:
    done = subprocess.run(
        ["node", str(NODE / "chat_tool_call.mjs")],
        env={**os.environ, "OPENAI_BASE_URL": server.url_for("neutral") + "/v1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"text": TEXT, "args": ARGS, "finish": "tool_calls"}


def _text_and_calls(api: str, seen: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """The text and the tool calls' arguments, from what each SDK showed (tests/sdks.py)."""
    if api == "responses":
        text = "".join(v for k, v in seen if k == "response.output_text.delta")
        args = "".join(v for k, v in seen if k == "response.function_call_arguments.delta")
        return text, [json.loads(args)]
    if api == "anthropic":
        text = "".join(v["text"] for k, v in seen if k == "text_delta")
        args = "".join(v["partial_json"] for k, v in seen if k == "input_json_delta")
        return text, [json.loads(args)]
    if api == "bedrock":
        deltas = [
            v["contentBlockDelta"]["delta"] for k, v in seen if k == "event" and "contentBlockDelta" in v
        ]
        args = "".join(d["toolUse"]["input"] for d in deltas if "toolUse" in d)
        return "".join(d.get("text", "") for d in deltas), [json.loads(args)]
    text = "".join(v for k, v in seen if k == "text")
    if api in ("ollama", "gemini"):  # whole arguments, as these APIs send them
        return text, [dict(v[1]) for k, v in seen if k == "call"]
    args = "".join(v for k, v in seen if k == "args" and v)
    return text, [json.loads(args)] if args else []


def test_one_scenario_on_every_api_through_each_sdk(server: MockServer) -> None:
    """Every API in the registry plays the same scenario to its own SDK: the same text
    and the same tool call (Completions and raw SSE have no form for a tool call;
    embeddings play no text)."""
    from sdks import OBSERVERS

    from mockserver.render import APIS

    base = server.url_for("neutral")
    played = {}
    for api, observe in OBSERVERS.items():
        played[api] = _text_and_calls(api, observe(base))
    with httpx.stream("POST", base + "/custom/sse", json={"stream": True}, timeout=10) as answer:
        data = [line[6:] for line in answer.iter_lines() if line.startswith("data: ")]
    played["raw"] = ("".join(data), [])  # raw SSE has no form for a tool call
    assert set(played) | {"embeddings"} == set(APIS)  # a new API must join this test
    for api, (text, calls) in played.items():
        assert text == TEXT, api
        assert calls == ([] if api in ("completions", "raw") else [ARGS]), api


def test_the_readme_lists_every_route() -> None:
    """Each route of each API in the registry has its row in README's endpoint table."""
    import re

    from mockserver.render import APIS

    table = (NODE.parent.parent / "README.md").read_text().split("## Endpoints", 1)[1].split("\n## ", 1)[0]
    for api in APIS.values():
        for route in (*api.routes, *api.model_list_routes):
            last = re.sub(r"\{[^}]*\}", "", route).rstrip("/").split("/")[-1]  # its own last words
            assert last in table, (api.name, route)
