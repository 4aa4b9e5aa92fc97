"""Verdicts on how the client behaved, for well- and badly-behaved clients: the real
SDKs, and raw clients that do it wrong on purpose."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers import closing
from mockserver import MockServer
from mockserver.scenario import load_text

SCENARIOS = """
name: limited
match: {text: "(?i)limited"}
responses:
  - {status: 429, headers: {retry-after-ms: "300"}}
  - stream: [{text: "Served after the wait.", split: words}]
then: cycle
---
name: dropping
match: {text: "(?i)dropping"}
split: words
stream:
  - text: "Half of an answer that will never finish"
  - disconnect
---
name: stalling
match: {text: "(?i)stalling"}
stream:
  - text: "Then nothing"
  - stall
---
name: paced
match: {text: "(?i)paced"}
timing: {interval: 20ms}
split: words
stream:
  - text: "A paced stream of many words, one every twenty milliseconds, for a client to leave."
"""
# More than a loopback socket's buffers hold (the kernel's grow to about 4 MB): a
# client that does not read makes the server wait.
LONG = {"name": "long", "match": {"text": "(?i)long"}, "stream": [{"text": "x" * 8_000_000, "pieces": 400}]}
BODY = {"model": "gpt-4o", "stream": True}


def body(prompt: str) -> dict[str, Any]:
    return {**BODY, "messages": [{"role": "user", "content": prompt}]}


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(load_text(SCENARIOS, "<verdicts>")) as running:
        running.add(LONG)
        yield running


def verdict(server: MockServer, name: str) -> Any:
    return server.verdicts[name]


def test_the_openai_and_anthropic_sdks_honour_retry_after(server: MockServer) -> None:
    from anthropic import Anthropic
    from openai import OpenAI

    openai = closing(OpenAI(base_url=server.openai_url, api_key="k", max_retries=2))
    list(openai.chat.completions.create(**body("limited please")))
    claude = closing(Anthropic(base_url=server.url, api_key="k", max_retries=2))
    with claude.messages.stream(
        model="claude-test", max_tokens=20, messages=[{"role": "user", "content": "limited"}]
    ) as s:
        s.until_done()
    judged = verdict(server, "retry_after")
    assert judged.state == "pass", judged
    assert [e["honoured"] for e in judged.evidence] == [True, True]
    assert all(e["asked"] == 0.3 and e["waited"] >= 0.27 for e in judged.evidence)
    server.verdicts.assert_honoured_retry_after()


def test_a_client_retrying_at_once_fails_with_the_evidence(server: MockServer) -> None:
    for _ in range(2):  # a hand-made retry loop that ignores retry-after, each on a new connection
        httpx.post(server.openai_url + "/chat/completions", json=body("limited"), timeout=10)
    judged = verdict(server, "retry_after")
    assert judged.state == "fail"
    (evidence,) = judged.evidence
    assert (evidence["request"], evidence["retry"], evidence["honoured"]) == (1, 2, False)
    assert evidence["waited"] < 0.3 and "retried #1 (429, retry-after 0.3 s) after" in judged.summary
    with pytest.raises(AssertionError, match=r"retry_after is fail: Request #2 retried #1"):
        server.verdicts.assert_honoured_retry_after()
    assert verdict(server, "keepalive").state == "fail"  # a new connection for each
    with httpx.Client(timeout=10) as client:  # and a client that keeps its connection
        for _ in range(3):
            client.post(
                server.openai_url + "/chat/completions",
                json=body("paced"),
                headers={"x-mock-session": "kept"},
            )
    assert server.verdicts_for("kept")["keepalive"].state == "pass"


def test_a_request_sent_again_after_half_its_stream_is_flagged(server: MockServer) -> None:
    with httpx.Client(timeout=10) as client:
        for _ in range(2):
            try:
                with client.stream(
                    "POST", server.openai_url + "/chat/completions", json=body("dropping")
                ) as r:
                    for _ in r.iter_raw():
                        pass
            except httpx.HTTPError:
                pass  # the stream broke: try again (the mistake)
    judged = verdict(server, "retried_after_output")
    assert judged.state == "fail" and judged.evidence[0]["request"] == 1 and judged.evidence[0]["retry"] == 2
    assert judged.evidence[0]["events_arrived"] > 0 and judged.evidence[0]["ended"] == "disconnect"
    with pytest.raises(AssertionError, match=r"Request #2 sent #1 again after \d+ of its events"):
        server.verdicts.assert_no_retry_after_output()


def test_a_client_that_stops_reading_and_closes_passes_cancel(server: MockServer) -> None:
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", server.openai_url + "/chat/completions", json=body("paced")) as r:
            next(r.iter_raw())  # one piece, then leave: the context closes the connection
    deadline = time.monotonic() + 5
    while verdict(server, "cancel").state != "pass" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert verdict(server, "cancel").state == "pass"
    server.verdicts.assert_closed_on_cancel()


def _raw_request(server: MockServer, prompt: str) -> socket.socket:
    """A socket with a small receive buffer, the request sent, nothing read yet."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    payload = json.dumps(body(prompt)).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return sock


def test_a_client_that_stops_reading_and_keeps_the_socket_fails_cancel(server: MockServer) -> None:
    sock = _raw_request(server, "long")
    try:
        sock.recv(2048)  # a little, then nothing more, the socket left open
        deadline = time.monotonic() + 15
        while verdict(server, "cancel").state != "fail" and time.monotonic() < deadline:
            time.sleep(0.2)
        judged = verdict(server, "cancel")
        assert judged.state == "fail", judged
        assert "stopped reading after" in judged.summary and "kept the connection open" in judged.summary
        with pytest.raises(AssertionError, match=r"cancel is fail: Request #1: the client stopped reading"):
            server.verdicts.assert_closed_on_cancel()
    finally:
        sock.close()


def test_a_slow_reader_shows_backpressure(server: MockServer) -> None:
    sock = _raw_request(server, "long")
    try:
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # 1 KB a second, about
            sock.recv(1024)
            time.sleep(1.0)
    finally:
        sock.close()
    deadline = time.monotonic() + 5
    while not verdict(server, "backpressure").evidence and time.monotonic() < deadline:
        time.sleep(0.05)
    judged = verdict(server, "backpressure")
    assert judged.state == "fail" and judged.evidence[0]["blocked"] >= 1.0, judged


def test_the_time_a_client_waits_on_a_stall(server: MockServer) -> None:
    from openai import APITimeoutError, OpenAI

    client = closing(OpenAI(base_url=server.openai_url, api_key="k", max_retries=0, timeout=0.5))
    with pytest.raises(APITimeoutError):
        list(client.chat.completions.create(**body("stalling")))
    deadline = time.monotonic() + 5
    while verdict(server, "stall_timeout").state != "pass" and time.monotonic() < deadline:
        time.sleep(0.05)
    judged = verdict(server, "stall_timeout")
    assert judged.state == "pass" and 0.4 <= judged.evidence[0]["waited"] < 5, judged


def test_verdicts_over_http_per_session(server: MockServer) -> None:
    for session in ("alpha", "beta"):
        httpx.post(
            server.openai_url + "/chat/completions", json=body("limited"), headers={"x-mock-session": session}
        )
    httpx.post(
        server.openai_url + "/chat/completions", json=body("limited"), headers={"x-mock-session": "alpha"}
    )
    sessions = httpx.get(server.url + "/_mock/verdicts").json()["sessions"]
    assert set(sessions) == {"alpha", "beta"}
    alpha = {v["name"]: v for v in sessions["alpha"]}
    assert alpha["retry_after"]["state"] == "fail" and {v["name"] for v in sessions["beta"]} == set(alpha)
    only = httpx.get(server.url + "/_mock/verdicts", params={"session": "beta"}).json()["sessions"]
    assert {v["name"]: v["state"] for v in only["beta"]}["retry_after"] == "not seen"


INNER = '''
import json

import httpx

LIMITED = """
responses:
  - {status: 429, headers: {retry-after-ms: "300"}}
  - stream: [{text: ok}]
then: cycle
"""
DROPPING = "stream: [{text: a b c, split: words}, disconnect]"


def chat(mockserver, name, client=None):
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    url = mockserver.url_for(name) + "/v1/chat/completions"
    try:
        with (client or httpx).stream("POST", url, json=body, timeout=10) as r:
            for _ in r.iter_raw():
                pass
    except httpx.HTTPError:
        pass


def test_retry_after(mockserver):
    name = mockserver.add(LIMITED)
    chat(mockserver, name)
    chat(mockserver, name)  # at once
    mockserver.verdicts.assert_honoured_retry_after()


def test_retry_after_output(mockserver):
    name = mockserver.add(DROPPING)
    chat(mockserver, name)
    chat(mockserver, name)
    mockserver.verdicts.assert_no_retry_after_output()


def test_cancel(mockserver):
    mockserver.add("stream: [{text: a b c}]")
    mockserver.verdicts.assert_closed_on_cancel()


def test_tools(mockserver):
    name = mockserver.add("stream: [{tool_call: {name: f, id: call_1, arguments: {a: 1}}}]")
    chat(mockserver, name)
    body = {"model": "m", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": json.dumps({"a": 2})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "done"},
    ]}
    httpx.post(mockserver.url_for(name) + "/v1/chat/completions", json=body, timeout=10)
    mockserver.verdicts.assert_tools_echoed()
'''


def test_each_assert_helper_fails_naming_the_requests_and_times(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n")
    pytester.makepyfile(test_client=INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=4)
    result.stdout.re_match_lines(
        [
            r".*mockserver verdict retry_after is fail: Request #2 retried #1 \(429, retry-after 0.3 s\) after 0\.\d{3} s.*",
            r".*'request': 1, 'status': 429, 'asked': 0.3, 'retry': 2, 'waited': 0\.\d+, 'honoured': False.*",
        ],
        consecutive=False,
    )
    result.stdout.re_match_lines(
        [  # journal numbers count on through the session's tests
            r".*retried_after_output is fail: Request #4 sent #3 again after 4 of its events.*",
            r".*'request': 3, 'events_arrived': 4, 'ended': 'disconnect', 'retry': 4, 'after': 0\.\d+.*",
            r".*cancel is not seen: The client did not stop reading a stream early.*",
            r".*tool_echo is fail: Request #6: call 'call_1' \(f\) came back with arguments.*",
        ],
        consecutive=False,
    )


def test_the_shutdown_summary_says_the_verdicts_seen(server: MockServer) -> None:
    from mockserver.cli import verdict_lines

    for _ in range(2):
        httpx.post(server.openai_url + "/chat/completions", json=body("limited"), timeout=10)
    lines = server._call(verdict_lines)
    assert lines[0] == "verdicts for 127.0.0.1:"
    assert any(line.startswith("  FAIL  retry_after: Request #2 retried #1") for line in lines)
    assert not any("not seen" in line.lower() for line in lines)
