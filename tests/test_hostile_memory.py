"""Memory is bounded in bytes, not only in entries: the journal (whole bodies kept
up to a size, the rest as size, hash and start), the plan cache (no echo of a huge
message is kept), the per-session counters (least recently used dropped), and the
open-streams count survives clearing the journal under open streams."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import httpx
from hostile import as_json, post_raw, rss_bytes, serve_process

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver.server.journal import BODY_HEAD, DEFAULT_ENTRY_BODY

ECHO = """
name: echo
stream: [{text: "{{ request.last_message }}"}]
"""


def test_a_hundred_4mb_bodies_keep_the_server_small(tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text("name: quiet\nstream: [{text: ok}]\n")
    with serve_process(tmp_path) as url:
        body = as_json({"model": "m", "messages": [{"role": "user", "content": "x" * 4_000_000}]})
        post_raw(url, "/s/quiet/v1/chat/completions", body)
        before = rss_bytes(url)
        for _ in range(100):
            assert post_raw(url, "/s/quiet/v1/chat/completions", body)[0] == 200
        grown = rss_bytes(url) - before
        assert grown < 80 * 1024 * 1024, f"the server grew {grown / 1e6:.0f} MB"  # it kept 419 MB before
        page = httpx.get(url + "/_mock/requests", params={"limit": 2}, timeout=30).json()
    entry = page["requests"][0]
    assert entry["body_truncated"] and entry["json"] is None
    assert entry["body_size"] == len(body) and entry["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert entry["body_head"] == body[:BODY_HEAD].decode()
    assert page["has_more"] and page["next_after"] == page["requests"][-1]["id"]


def test_the_journal_is_bounded_in_bytes_and_paged(serve: ServeFactory) -> None:
    server = serve("{name: quiet, stream: [{text: ok}]}", time_scale=0, journal_bytes=4_000_000)
    message = "y" * (DEFAULT_ENTRY_BODY // 2)  # kept whole: each counts about 1.5 MB
    client = openai_client(server, "quiet")
    for _ in range(10):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": message}])
    held = server._call(lambda state: state.journal.held_bytes)
    assert held <= 4_000_000
    first = httpx.get(server.url + "/_mock/requests", params={"limit": 1}).json()
    assert first["dropped"] >= 7 and first["has_more"]
    (entry,) = first["requests"]
    rest = httpx.get(server.url + "/_mock/requests", params={"after": entry["id"]}).json()
    assert [e["id"] for e in rest["requests"]] == list(
        range(entry["id"] + 1, entry["id"] + 1 + len(rest["requests"]))
    )
    assert not rest["has_more"] and rest["requests"][-1]["json"]["messages"][0]["content"] == message
    bad = httpx.get(server.url + "/_mock/requests", params={"limit": "lots"})
    assert bad.status_code == 400


def test_the_plan_cache_keeps_no_echo_of_a_huge_message(serve: ServeFactory) -> None:
    server = serve(ECHO, time_scale=0)
    client = openai_client(server, "echo")
    for number in range(20):
        text = f"{number}" + "z" * 200_000
        reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])
        assert reply.choices[0].message.content == text
    assert server._call(lambda state: state.plans.held_bytes) == 0
    client.chat.completions.create(model="m", messages=MESSAGES)  # small ones are still cached
    assert server._call(lambda state: len(state.plans)) == 1


def test_counters_for_new_sessions_are_bounded(serve: ServeFactory) -> None:
    server = serve("{name: quiet, stream: [{text: ok}]}", time_scale=0)
    server._call(lambda state: setattr(state.counters, "size", 50))
    with httpx.Client(timeout=10) as client:
        for number in range(120):
            client.post(
                server.url_for("quiet") + "/v1/chat/completions",
                json={"model": "m", "messages": MESSAGES},
                headers={"x-mock-session": f"s{number}"},
            )
    assert server._call(lambda state: len(state.counters)) == 50


def test_clearing_the_journal_under_open_streams_keeps_the_count_right(serve: ServeFactory) -> None:
    server = serve("{name: slow, timing: {interval: 50ms}, split: words, stream: [{text: a b c d e f g h}]}")
    threads = [
        threading.Thread(
            target=lambda: list(
                openai_client(server, "slow").chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                )
            )
        )
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while httpx.get(server.url + "/_mock/stats").json()["open_streams"] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert httpx.delete(server.url + "/_mock/requests").status_code == 200
    assert httpx.get(server.url + "/_mock/stats").json()["open_streams"] == 5  # still open
    for thread in threads:
        thread.join(timeout=10)
    assert httpx.get(server.url + "/_mock/stats").json()["open_streams"] == 0  # was -5
