"""Any other path plays raw SSE where a scenario's `match.path` names it."""

from __future__ import annotations

import httpx
import pytest
from httpx_sse import connect_sse

from helpers import ServeFactory
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: ticker
    match: {path: "/events/*", method: GET}
    timing: {interval: 5ms}
    stream:
      - comment: hello
      - text: "tick 1"
      - event: {event: price, data: {usd: 1.5}, id: "7"}
      - text: "tick 2"
      - tool_call: {name: ignored, arguments: {}}
      - error: {message: feed lost, type: server_error}
  - name: ending
    match: {path: /stream}
    stream:
      - text: one
      - done
  - name: chat-only
    match: {text: hi}
    stream: [{text: hi}]
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


def test_a_matching_path_streams_plain_sse(server: MockServer) -> None:
    with httpx.Client() as client:
        with connect_sse(client, "GET", server.url + "/events/prices") as source:
            assert source.response.headers["content-type"].startswith("text/event-stream")
            events = [(e.event, e.data, e.id) for e in source.iter_sse()]
    assert events == [
        ("message", "tick 1", ""),
        ("price", '{"usd":1.5}', "7"),
        ("message", "tick 2", "7"),
        ("error", '{"error":{"message":"feed lost","type":"server_error","code":null}}', "7"),
    ]


def test_done_only_when_scripted(server: MockServer) -> None:
    response = httpx.post(server.url + "/stream", json={"anything": True})
    assert response.text == "data: one\n\ndata: [DONE]\n\n"


def test_a_named_scenario_plays_raw_on_any_path(server: MockServer) -> None:
    response = httpx.get(server.url_for("ending") + "/whatever")
    assert response.text == "data: one\n\ndata: [DONE]\n\n"


def test_other_paths_are_404_even_if_a_rule_without_path_matches(server: MockServer) -> None:
    response = httpx.post(server.url + "/other", json={"messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unknown request URL: POST /other."
    assert httpx.get(server.url + "/events/x", headers={"x-mock-scenario": "nope"}).status_code == 404
