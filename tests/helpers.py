"""Helpers for the tests: OpenAI clients pointed at a MockServer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver import MockServer

ServeFactory = Callable[..., MockServer]

# Every sync client made here, closed after each test (conftest.py): an SDK client left to
# the garbage collector warns about its unclosed socket, an error under -W error.
OPEN_CLIENTS: list[Any] = []


def closing(client: Any) -> Any:
    """`client`, closed when the test ends."""
    OPEN_CLIENTS.append(client)
    return client


def openai_client(server: MockServer, scenario: str | None = None, **options: Any) -> Any:
    from openai import OpenAI

    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    base = server.url_for(scenario) + "/v1" if scenario else server.openai_url
    return closing(OpenAI(base_url=base, api_key="test-key", **options))


def bedrock_client(base: str, **config: Any) -> Any:
    """boto3's Bedrock Runtime client at `base` with test credentials (`config`: botocore
    Config options), closed when the test ends."""
    import boto3
    from botocore.config import Config

    return closing(
        boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=base,
            aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
            config=Config(**config),
        )
    )


def async_openai_client(server: MockServer, scenario: str | None = None, **options: Any) -> Any:
    from openai import AsyncOpenAI

    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    base = server.url_for(scenario) + "/v1" if scenario else server.openai_url
    return AsyncOpenAI(base_url=base, api_key="test-key", **options)  # the test closes it: it awaits


MESSAGES = [{"role": "user", "content": "Hello"}]

# An agent loop in two turns: a tool call, then (given a sunny result) the answer.
WEATHER_AGENT = """
name: weather-agent
match: {text: "(?i)weather"}
conversation:
  - stream: [{tool_call: {name: get_weather, arguments: {city: Paris}, pieces: 3}}]
  - match: {tool_result: {name: get_weather, contains: sunny}}
    stream: [{text: "It is sunny in Paris."}]
"""

# Two parallel tool calls, the first one's arguments finished after the second started.
INTERLEAVED = """
name: interleaved
stream:
  - tool_call: {name: get_weather, id: call_paris, arguments: '{"city":', index: 0}
  - tool_call: {name: get_time, id: call_tokyo, index: 1, split: ['{"tz":', '"Asia/', 'Tokyo"}']}
  - tool_call: {index: 0, arguments: '"Paris"}'}
  - finish: tool_calls
"""


def raw_chunks(
    port: int, path: str, body: dict[str, Any], timeout: float = 5.0
) -> tuple[int, dict[str, str], list[bytes], bool]:
    """POST to 127.0.0.1:port over a bare socket and read the chunked body as sent: (status, headers,
    the HTTP chunks in order, whether the zero-length terminator came)."""
    import json
    import socket

    payload = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        data = b""
        while True:
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    chunks: list[bytes] = []
    terminated = False
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            terminated = True
            break
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
    return status, headers, chunks, terminated
