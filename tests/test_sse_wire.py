"""The bytes on the wire, read with plain httpx and httpx-sse: SSE framing, headers,
comments, raw bytes, explicit events, line endings and cut writes."""

from __future__ import annotations

import json

import httpx
import pytest
from httpx_sse import connect_sse

from helpers import ServeFactory, raw_chunks
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: extras
    stream:
      - comment: keep-alive
      - text: "Hello"
      - event: {event: progress, data: {stage: half}, retry: 100}
      - event: {data: "line one\\nline two"}
      - raw: "data: {\\"raw\\": true}\\n\\n"
      - done
      - text: "after done"
  - name: crlf
    transport: {line_ending: crlf}
    stream:
      - text: "a"
  - name: tiny-writes
    seed: 3
    transport: {write_size: {min: 3, max: 9}}
    split: words
    stream:
      - text: "Cut into tiny network writes, byte by byte almost."
  - name: no-done
    done: false
    stream:
      - text: "x"
  - name: headers
    headers: {x-custom: "{{ request.model }}", retry-after: "1"}
    stream:
      - text: "x"
"""

TWENTY_WORDS = """
name: words
timing: {interval: 20ms}
split: words
stream:
  - text: "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20"
"""

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


def raw_body(server: MockServer, name: str) -> tuple[httpx.Response, bytes, list[bytes]]:
    with httpx.Client() as client:
        with client.stream("POST", f"{server.url_for(name)}/v1/chat/completions", json=BODY) as response:
            pieces = list(response.iter_raw())
    return response, b"".join(pieces), pieces


def test_stream_headers(server: MockServer) -> None:
    response, body, _ = raw_body(server, "headers")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.headers["x-custom"] == "m" and response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"].startswith("req_")
    assert body.endswith(b"data: [DONE]\n\n")


def test_httpx_sse_sees_each_event(server: MockServer) -> None:
    with httpx.Client() as client:
        with connect_sse(
            client, "POST", f"{server.url_for('extras')}/v1/chat/completions", json=BODY
        ) as source:
            events = list(source.iter_sse())
    kinds = [(e.event, e.data) for e in events]
    assert kinds[0][0] == "message" and json.loads(kinds[0][1])["choices"][0]["delta"]["role"] == "assistant"
    assert json.loads(kinds[1][1])["choices"][0]["delta"]["content"] == "Hello"
    assert kinds[2] == ("progress", '{"stage":"half"}') and events[2].retry == 100
    assert kinds[3] == ("message", "line one\nline two")
    assert kinds[4] == ("message", '{"raw": true}')
    assert json.loads(kinds[5][1])["choices"][0]["finish_reason"] == "stop"  # before [DONE]
    assert kinds[6] == ("message", "[DONE]")
    # steps after an explicit `done` still play; no second [DONE] is added
    assert json.loads(kinds[7][1])["choices"][0]["delta"]["content"] == "after done"
    assert [k for k in kinds if k[1] == "[DONE]"] == [("message", "[DONE]")]


def test_comment_is_a_colon_line(server: MockServer) -> None:
    _, body, _ = raw_body(server, "extras")
    assert body.startswith(b": keep-alive\n\n")


def test_crlf_line_endings(server: MockServer) -> None:
    _, body, _ = raw_body(server, "crlf")
    assert body.count(b"\r\n\r\n") == 4 and b"\n\n" not in body.replace(b"\r\n", b"")
    assert body.endswith(b"data: [DONE]\r\n\r\n")


def test_write_size_cuts_the_byte_stream_into_small_writes(server: MockServer) -> None:
    status, _, chunks, terminated = raw_chunks(server.port, "/s/tiny-writes/v1/chat/completions", BODY)
    assert status == 200 and terminated
    sizes = [len(c) for c in chunks]
    assert len(sizes) > 20 and all(1 <= n <= 9 for n in sizes) and max(sizes) > 3
    with httpx.Client() as client:
        with connect_sse(
            client, "POST", f"{server.url_for('tiny-writes')}/v1/chat/completions", json=BODY
        ) as source:
            data = [e.data for e in source.iter_sse()]
    text = "".join(json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data[:-1])
    assert text == "Cut into tiny network writes, byte by byte almost." and data[-1] == "[DONE]"


def test_without_write_size_no_event_is_split(serve: ServeFactory) -> None:
    server = serve(TWENTY_WORDS, time_scale=0.1)
    _, _, chunks, terminated = raw_chunks(server.port, "/s/words/v1/chat/completions", BODY)
    assert terminated
    assert all(c.endswith(b"\n\n") and c.count(b"data: ") >= 1 for c in chunks)
    # how many writes depends on the machine's load (due writes are coalesced), what
    # they carry does not: the role chunk, 20 words, the finish chunk, [DONE]
    assert b"".join(chunks).count(b"data: ") == 23


def test_disconnect_leaves_out_the_chunked_terminator(serve: ServeFactory) -> None:
    server = serve("{name: d, stream: [{text: a}, disconnect]}", time_scale=0)
    status, _, chunks, terminated = raw_chunks(server.port, "/s/d/v1/chat/completions", BODY)
    assert status == 200 and chunks and not terminated


def test_done_false_leaves_out_the_terminator(server: MockServer) -> None:
    _, body, _ = raw_body(server, "no-done")
    assert b"[DONE]" not in body and body.endswith(b"\n\n")


def test_json_is_ascii_escaped(serve: ServeFactory) -> None:
    server = serve('{name: u, stream: [{text: "caf\\u00e9 \\u2028 \\U0001F600"}]}', time_scale=0)
    _, body, _ = raw_body(server, "u")
    assert body.isascii()
    assert b'"content":"caf\\u00e9 \\u2028 \\ud83d\\ude00"' in body
