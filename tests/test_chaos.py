"""Chaos: seeded, at the asked rate, each fault as the real SDK meets it,
named in the journal and the x-mock-fault header, changeable while serving."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: words
    split: words
    stream:
      - text: "one two three four five six"
  - name: calm
    chaos: false
    stream: [{text: calm}]
"""


def faults_of(server: MockServer, count: int, session: str | None = None) -> list[str | None]:
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    headers = {"x-mock-session": session} if session else {}
    with httpx.Client(timeout=0.3) as client:
        for _ in range(count):
            try:
                with client.stream(
                    "POST", server.url_for("words") + "/v1/chat/completions", json=body, headers=headers
                ) as response:
                    for _ in response.iter_raw():
                        pass
            except httpx.HTTPError:
                pass  # the fault did what faults do
    return [e.fault for e in server.requests]


def test_same_seed_same_faults_at_the_asked_rate(serve: ServeFactory) -> None:
    options: dict[str, Any] = {
        "time_scale": 0,
        "chaos": 0.3,
        "chaos_seed": 9,
        "chaos_faults": ["429", "500", "disconnect", "malformed", "error-event"],
    }
    first = faults_of(serve(SCENARIOS, **options), 200)
    again = faults_of(serve(SCENARIOS, **options), 200)
    other = faults_of(serve(SCENARIOS, **{**options, "chaos_seed": 10}), 200)
    assert first == again and first != other
    injected = [f for f in first if f]
    assert 40 <= len(injected) <= 80  # 30% of 200, within a generous tolerance
    assert set(injected) == {"429", "500", "disconnect", "malformed", "error-event"}


def stream(server: MockServer, **options: Any) -> str:
    client = openai_client(server, "words", **options)
    chunks = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    return "".join(c.choices[0].delta.content or "" for c in chunks)


EXPECTED: dict[str, Callable[[MockServer], None]] = {}


def expects(fault: str) -> Callable[[Callable[[MockServer], None]], Callable[[MockServer], None]]:
    def register(check: Callable[[MockServer], None]) -> Callable[[MockServer], None]:
        EXPECTED[fault] = check
        return check

    return register


@expects("429")
def _rate_limited(server: MockServer) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        stream(server)
    assert caught.value.response.headers["x-mock-fault"] == "429"
    assert caught.value.response.headers["retry-after"] == "1"


@expects("500")
def _server_error(server: MockServer) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        stream(server)
    assert caught.value.status_code == 500 and "(mockserver chaos)" in caught.value.message


@expects("503")
def _unavailable(server: MockServer) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        stream(server)
    assert caught.value.status_code == 503


@expects("disconnect")
def _disconnect(server: MockServer) -> None:
    with pytest.raises(openai.APIConnectionError):
        stream(server)


@expects("reset")
def _reset(server: MockServer) -> None:
    with pytest.raises(openai.APIConnectionError):
        stream(server)


@expects("stall")
def _stall(server: MockServer) -> None:
    with pytest.raises(openai.APITimeoutError):
        stream(server, timeout=0.5)


@expects("slow")
def _slow(server: MockServer) -> None:
    started = time.monotonic()
    assert stream(server) == "one two three four five six"
    assert time.monotonic() - started > 1.4


@expects("malformed")
def _malformed(server: MockServer) -> None:
    with pytest.raises(json.JSONDecodeError):
        stream(server)


@expects("error-event")
def _error_event(server: MockServer) -> None:
    with pytest.raises(openai.APIError, match="mockserver chaos"):
        stream(server)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_every_fault_as_the_sdk_sees_it(serve: ServeFactory, fault: str) -> None:
    server = serve(SCENARIOS, chaos=1.0, chaos_faults=[fault])
    EXPECTED[fault](server)
    (entry,) = server.requests
    assert entry.fault == fault


def test_every_fault_has_a_check() -> None:
    from mockserver.server.chaos import FAULTS

    assert set(EXPECTED) == set(FAULTS)


def test_put_chaos_takes_effect_on_the_next_request(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0)
    assert stream(server) == "one two three four five six"
    changed = httpx.put(server.url + "/_mock/chaos", json={"rate": 1, "faults": ["503"]}).json()
    assert changed["rate"] == 1 and changed["faults"] == ["503"]
    with pytest.raises(openai.InternalServerError):
        stream(server)
    assert httpx.get(server.url + "/_mock/chaos").json()["injected"] == {"503": 1}
    httpx.put(server.url + "/_mock/chaos", json={"rate": 0})
    assert stream(server) == "one two three four five six"
    bad = httpx.put(server.url + "/_mock/chaos", json={"rate": 2, "faults": ["gremlins"]})
    assert bad.status_code == 400


def test_a_scenario_can_opt_out(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, chaos=1.0, chaos_faults=["500"])
    reply = openai_client(server, "calm").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "calm"


def test_chaos_for_one_session_only(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0)
    httpx.put(server.url + "/_mock/chaos", json={"rate": 1, "faults": ["500"], "session": "victim"})
    assert faults_of(server, 3, session="bystander") == [None, None, None]
    assert faults_of(server, 2, session="victim")[-2:] == ["500", "500"]


def test_non_stream_requests_get_whole_response_faults(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, chaos=1.0, chaos_faults=["error-event", "malformed"], time_scale=0)
    client = openai_client(server, "words")
    with pytest.raises(json.JSONDecodeError):  # half a JSON body: the SDK's JSON parse fails
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert server.requests[-1].fault == "malformed"


def test_get_chaos_can_be_put_back(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0, chaos=1.0, chaos_faults=["503"])
    with pytest.raises(openai.InternalServerError):
        stream(server)
    settings = httpx.get(server.url + "/_mock/chaos").json()
    assert settings["injected"] == {"503": 1}
    settings["rate"] = 0  # read, change one thing, write back
    answer = httpx.put(server.url + "/_mock/chaos", json=settings)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rate"] == 0 and answer.json()["faults"] == ["503"]
    assert stream(server) == "one two three four five six"


def test_injected_errors_are_the_same_bytes_for_the_same_chaos_seed(serve: ServeFactory) -> None:
    def answers(server: MockServer) -> list[tuple[int, str | None, bytes]]:
        body = {"model": "m", "messages": MESSAGES, "stream": True}
        out = []
        with httpx.Client(timeout=5) as client:
            for _ in range(6):
                reply = client.post(server.url_for("words") + "/v1/chat/completions", json=body)
                out.append((reply.status_code, reply.headers.get("x-request-id"), reply.content))
        return out

    first = answers(serve(SCENARIOS, time_scale=0, chaos=1.0, chaos_seed=3, chaos_faults=["429", "500"]))
    again = answers(serve(SCENARIOS, time_scale=0, chaos=1.0, chaos_seed=3, chaos_faults=["429", "500"]))
    assert {status for status, _, _ in first} <= {429, 500}
    assert all(request_id for _, request_id, _ in first)
    assert first == again
