"""Fuzzed requests: whatever arrives, the answer is a 4xx in the API's shape or a
normal reply — never a 500, never a hang — and the server goes on serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import MESSAGES, openai_client
from mockserver import MockServer

PATHS = ["/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/completions", "/v1/embeddings"]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(time_scale=0, max_body=64 * 1024, client_timeout=2.0) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as session:
        yield session


def assert_answered(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        body = response.json()
        assert "error" in body  # OpenAI's {"error": {...}} or Anthropic's {"type": "error", "error": {...}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "model",
                    "messages",
                    "stream",
                    "input",
                    "prompt",
                    "max_tokens",
                    "tools",
                    "tool_choice",
                    "role",
                    "content",
                    "stream_options",
                    "encoding_format",
                    "dimensions",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@FUZZ
@given(path=st.sampled_from(PATHS), body=json_values)
def test_random_json(client: httpx.Client, path: str, body: Any) -> None:
    assert_answered(client.post(path, content=json.dumps(body)))


@FUZZ
@given(path=st.sampled_from(PATHS), body=st.binary(max_size=300))
def test_random_bytes_and_bad_utf8(client: httpx.Client, path: str, body: bytes) -> None:
    assert_answered(client.post(path, content=body))


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    messages=st.lists(
        st.dictionaries(
            st.sampled_from(["role", "content", "name"]),
            st.one_of(
                st.text(max_size=10),
                st.integers(),
                st.none(),
                st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=5))),
            ),
            max_size=3,
        ),
        max_size=3,
    ),
    stream=st.one_of(st.booleans(), st.none(), st.integers()),
)
def test_plausible_but_wrong_requests(client: httpx.Client, path: str, messages: Any, stream: Any) -> None:
    body = {
        "model": "m",
        "messages": messages,
        "input": messages,
        "prompt": messages,
        "max_tokens": 5,
        "stream": stream,
    }
    assert_answered(client.post(path, json=body))


@pytest.mark.parametrize("path", PATHS)
def test_a_huge_body_is_a_413_in_the_apis_shape(client: httpx.Client, path: str) -> None:
    response = client.post(path, content=b'{"model": "' + b"x" * 100_000 + b'"}')
    assert response.status_code == 413
    body = response.json()
    message = body["error"]["message"]
    assert "at most 65536 bytes" in message
    if path == "/v1/messages":
        assert body["type"] == "error" and body["error"]["type"] == "request_too_large"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
@pytest.mark.parametrize(
    "path", ["/", "/v1", "/v1/chat/completions", "/s/x/v1/nothing", "/_mock/nothing", "/%00"]
)
def test_unknown_paths_and_methods(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code in (404, 405), (method, path, response.status_code)


def test_still_serving(server: MockServer) -> None:
    reply = openai_client(server).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content
