"""Input that used to make the server answer 500 gets the API's own 4xx. The server
never fails (the conftest guard fails any test whose server logged an error)."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

HEADER_ECHO = """
name: echo-header
stream: [{text: "got {{ request.headers.x-note }}"}]
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(HEADER_ECHO, time_scale=0)


def post(server: MockServer, path: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        server.url + path, content=content, headers={"Content-Type": "application/json", **headers}
    )


def test_json_nested_a_thousand_deep_is_a_400(server: MockServer) -> None:
    deep = b'{"model":"m","messages":' + b"[" * 1000 + b"]" * 1000 + b"}"
    answer = post(server, "/v1/chat/completions", deep)
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"
    deep = (
        b'{"model":"m","max_tokens":5,"messages":[{"role":"user","content":'
        + b"[" * 500
        + b"]" * 500
        + b"}]}"
    )
    answer = post(server, "/v1/messages", deep)
    assert answer.status_code == 400 and answer.json()["type"] == "error"  # Anthropic's shape


def test_a_body_that_is_not_the_gzip_it_claims_is_a_400(server: MockServer) -> None:
    answer = post(server, "/v1/chat/completions", b'{"model":"m"}', **{"Content-Encoding": "gzip"})
    assert answer.status_code == 400
    body = gzip.compress(b'{"model":"m","messages":[{"role":"user","content":"zipped"}]}')
    answer = post(server, "/s/echo-header/v1/chat/completions", body, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 200  # real gzip still works


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "minItems": "x"},
        {"type": "integer", "minimum": 10, "maximum": 1},
        {"type": "number", "minimum": 1e308, "maximum": -1e308},
        {"type": "string", "maxLength": -5},
        {"type": "array", "minItems": -3, "maxItems": True},
        {"anyOf": [{"anyOf": [{"anyOf": [{"type": "object", "properties": {"a": {}}}]}]}]},
    ],
)
def test_odd_tool_schemas_get_arguments_not_500(server: MockServer, schema: object) -> None:
    tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {"v": schema}}},
    }
    reply = openai_client(server).chat.completions.create(
        model="m",
        messages=MESSAGES,
        tools=[tool],
        tool_choice="required",  # type: ignore[list-item]
    )
    assert reply.choices[0].message.tool_calls[0].function.name == "f"  # type: ignore[index,union-attr]


def test_an_infinite_minimum_is_a_number_it_survives(server: MockServer) -> None:
    body = (
        b'{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required",'
        b'"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",'
        b'"properties":{"n":{"type":"integer","minimum":1e999}}}}}]}'
    )
    assert post(server, "/v1/chat/completions", body).status_code == 200


def test_a_lone_surrogate_in_an_embeddings_input(server: MockServer) -> None:
    answer = post(server, "/v1/embeddings", b'{"model":"m","input":"\\udc80"}')
    assert answer.status_code == 200 and len(answer.json()["data"][0]["embedding"]) == 1536


def test_a_latin1_header_echoed_by_a_template(server: MockServer) -> None:
    body = b'{"model":"m","messages":[{"role":"user","content":"x"}]}'
    answer = httpx.post(
        server.url_for("echo-header") + "/v1/chat/completions",
        content=body,
        headers=[("Content-Type", "application/json"), ("X-Note", "caf\xe9".encode("latin-1"))],
    )
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"].startswith("got caf")


def test_an_admin_token_of_bytes_that_are_not_utf8(serve: ServeFactory) -> None:
    server = serve("{name: x, stream: [{text: x}]}", admin_token="secret")
    answer = httpx.get(server.url + "/_mock/requests", headers=[("Authorization", b"Bearer \xff\xfe")])
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("&a [*a]", "an alias that contains itself"),
        ("[" * 2000 + "]" * 2000, "nested too deeply"),
        ("name: x\nstream:\n" + "  - text: a\n" * 3 + "deep: " + "[" * 100 + "]" * 100, "nested too deeply"),
    ],
)
def test_hostile_yaml_over_the_admin_api_is_a_400(server: MockServer, text: str, says: str) -> None:
    answer = httpx.post(
        server.url + "/_mock/scenarios", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert answer.status_code == 400 and says in answer.text


def test_the_server_still_serves(server: MockServer, tmp_path: Path) -> None:
    reply = openai_client(server, "echo-header").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "got "
