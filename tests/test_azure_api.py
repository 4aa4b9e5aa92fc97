"""Azure OpenAI, as `openai.AzureOpenAI` sees it over a real socket: deployments in
the path with api-version, api-key or Bearer, Azure's prompt- and content-filter
results, a 429 retried after `retry-after-ms`, Azure's error shapes; `/openai/v1/`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers import closing
from mockserver import MockServer
from mockserver.scenario import load_text

SCENARIOS = """
name: weather
match: {text: "(?i)weather"}
responses:
  - {status: 429, headers: {retry-after-ms: "10"}}
  - stream:
      - text: "Let me check. "
        split: words
      - tool_call: {name: get_weather, arguments: {city: Paris}, pieces: 3}
      - finish: tool_calls
then: cycle
---
name: filtered
match: {text: "(?i)filtered"}
stream:
  - text: "I was about to"
  - finish: content_filter
---
name: refused
match: {text: "(?i)refused"}
status: 400
error:
  message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."
  code: content_filter
---
name: hello
match: {text: "(?i)hello"}
stream: [{text: "Hello from Azure", split: words}]
"""


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(load_text(SCENARIOS, "<azure>"), strict=True, time_scale=0) as running:
        yield running


def azure(server: MockServer, **options: Any) -> Any:
    from openai import AzureOpenAI

    options.setdefault("max_retries", 2)
    return closing(
        AzureOpenAI(
            azure_endpoint=server.url,
            azure_deployment="gpt4o-prod",
            api_version="2024-10-21",
            api_key="azure-key",
            timeout=10.0,
            **options,
        )
    )


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_a_chat_stream_and_tool_call_after_a_429_retried(server: MockServer) -> None:
    stream = azure(server).chat.completions.create(model="gpt-4o", messages=user("weather?"), stream=True)
    chunks = list(stream)
    assert chunks[0].choices == [] and chunks[0].prompt_filter_results[0]["prompt_index"] == 0  # type: ignore[attr-defined]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    arguments = "".join(
        call.function.arguments or ""
        for c in chunks
        if c.choices
        for call in c.choices[0].delta.tool_calls or ()
    )
    assert text == "Let me check. " and json.loads(arguments) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert all("content_filter_results" in c.choices[0].model_extra for c in chunks if c.choices)
    entries = server.requests
    assert [e.status for e in entries] == [429, 200]  # retried after retry-after-ms, then served
    assert entries[-1].path == "/openai/deployments/gpt4o-prod/chat/completions"
    assert entries[-1].headers["api-key"] != "azure-key"  # masked in the journal: it is a key


def test_a_429_is_a_rate_limit_error_with_azures_string_code(server: MockServer) -> None:
    from openai import RateLimitError

    with pytest.raises(RateLimitError) as raised:
        azure(server, max_retries=0).chat.completions.create(model="gpt-4o", messages=user("weather?"))
    assert raised.value.code == "429"


def test_a_content_filter_finish_and_error(server: MockServer) -> None:
    from openai import BadRequestError

    chunks = list(
        azure(server).chat.completions.create(model="gpt-4o", messages=user("filtered"), stream=True)
    )
    last = [c for c in chunks if c.choices][-1].choices[0]
    assert last.finish_reason == "content_filter"
    assert last.model_extra["content_filter_results"]["violence"] == {"filtered": True, "severity": "high"}
    with pytest.raises(BadRequestError) as raised:
        azure(server).chat.completions.create(model="gpt-4o", messages=user("refused"))
    assert raised.value.code == "content_filter"
    assert raised.value.body["innererror"]["code"] == "ResponsibleAIPolicyViolation"  # type: ignore[index]


def test_completions_and_embeddings_on_deployments(server: MockServer) -> None:
    client = azure(server)
    completion = client.completions.create(model="gpt-35-instruct", prompt="hello")
    assert completion.choices[0].text == "Hello from Azure"
    vectors = client.embeddings.create(model="ada", input=["hello", "hello again"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) > 0
    assert [e.path for e in server.requests] == [
        "/openai/deployments/gpt4o-prod/completions",
        "/openai/deployments/gpt4o-prod/embeddings",
    ]


def test_the_v1_routes_with_a_bearer_key(server: MockServer) -> None:
    from openai import OpenAI

    client = closing(
        OpenAI(base_url=server.url + "/openai/v1/", api_key="azure-key", max_retries=0, timeout=10.0)
    )
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=user("hello"), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from Azure"
    assert server.requests[-1].path == "/openai/v1/chat/completions"


def test_a_deployment_without_api_version_is_refused(server: MockServer) -> None:
    body = {"messages": user("hello")}
    answer = httpx.post(server.url + "/openai/deployments/d/chat/completions", json=body, timeout=10)
    assert answer.status_code == 400 and "api-version" in answer.json()["error"]["message"]
