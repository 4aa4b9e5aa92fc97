"""The request journal, seen through the pytest fixture and MockServer."""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI

from helpers import MESSAGES, closing, openai_client
from mockserver import MockServer

SLOW_WORDS = {
    "name": "slow-words",
    "timing": {"interval": "50ms"},
    "split": "words",
    "stream": [{"text": " ".join(f"w{i}" for i in range(40))}],
}


def test_client_that_closes_after_ten_chunks_is_seen_leaving(mockserver: MockServer) -> None:
    # The streaming guide's "manual stream control", verified from the server side.
    name = mockserver.add(SLOW_WORDS)
    client = closing(OpenAI(base_url=mockserver.url_for(name) + "/v1", api_key="k"))
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    for i, _ in enumerate(stream):
        if i == 9:
            break
    stream.close()
    (entry,) = mockserver.requests
    assert entry.left_early and entry.left_after_event == 10
    assert entry.events_sent == 10 and entry.events_total == 43  # role + 40 words + finish + [DONE]
    assert entry.status == 200 and entry.finished


def test_entry_fields(mockserver: MockServer) -> None:
    name = mockserver.add({"name": "two", "responses": [{"status": 429}, {"stream": [{"text": "ok"}]}]})
    client = openai_client(mockserver, name, max_retries=1)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, temperature=0.3).close()
    first, second = mockserver.requests
    assert first.status == 429 and second.status == 200
    assert first.response_index == 0 and second.response_index == 1
    assert first.scenario == second.scenario == "two"
    assert second.json["model"] == "gpt-4o" and second.json["temperature"] == 0.3
    assert second.headers["x-stainless-retry-count"] == "1"
    assert second.method == "POST" and second.path == "/s/two/v1/chat/completions"
    assert second.bytes_sent > 100 and second.events_sent == second.events_total
    assert not second.left_early and second.left_after_event is None
    assert second.fault is None and second.ending == "close"
    assert first.time <= second.time


@pytest.mark.mockserver(strict=False)  # the auto-responder answers
def test_rejected_and_auto_requests_are_journaled(mockserver: MockServer) -> None:
    httpx.post(mockserver.openai_url + "/chat/completions", content=b"{")
    openai_client(mockserver).chat.completions.create(model="m", messages=MESSAGES)
    bad, auto = mockserver.requests
    assert bad.status == 400 and bad.json is None and bad.scenario is None
    assert auto.status == 200 and auto.scenario is None and auto.json["model"] == "m"


def test_journal_is_bounded() -> None:
    with MockServer(journal_size=3, time_scale=0) as server:
        client = openai_client(server)
        for i in range(5):
            client.chat.completions.create(model=f"m{i}", messages=MESSAGES)
        assert [e.json["model"] for e in server.requests] == ["m2", "m3", "m4"]
        body = httpx.get(server.url + "/_mock/requests").json()
        assert body["dropped"] == 2 and len(body["requests"]) == 3


def test_sessions_keep_their_own_sequences(mockserver: MockServer) -> None:
    name = mockserver.add({"name": "seq", "responses": [{"body": {"n": 1}}, {"body": {"n": 2}}]})
    url = mockserver.url_for(name) + "/v1/chat/completions"
    body = {"model": "m", "messages": MESSAGES}

    def ask(session: str) -> int:
        return int(httpx.post(url, json=body, headers={"X-Mock-Session": session}).json()["n"])

    assert [ask("a"), ask("b"), ask("a"), ask("b")] == [1, 1, 2, 2]


def test_reset_forgets_everything_added(mockserver: MockServer) -> None:
    mockserver.add({"name": "temp", "stream": [{"text": "x"}]})
    mockserver.use("temp")
    openai_client(mockserver).chat.completions.create(model="m", messages=MESSAGES)
    mockserver.reset()
    assert mockserver.requests == []
    with pytest.raises(Exception, match="no scenario named 'temp'"):
        mockserver.use("temp")
