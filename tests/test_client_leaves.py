"""A client that leaves mid-stream costs nothing afterwards: the server's work
for that stream stops at once."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
import traceback

import openai
import pytest

from helpers import MESSAGES, ServeFactory, async_openai_client, openai_client
from mockserver import MockServer
from mockserver.server.state import MAX_FAILURES

LONG = """
name: long
timing: {interval: 10ms}
split: chars
stream:
  - text: "{{ request.last_message }}"
"""


def server_tasks(server: MockServer) -> int:
    loop = server._loop
    assert loop is not None

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1  # not this one

    return asyncio.run_coroutine_threadsafe(count(), loop).result(timeout=5)


def wait_for_tasks(server: MockServer, expected: int, within: float = 2.0) -> int:
    deadline = time.monotonic() + within
    while True:
        tasks = server_tasks(server)
        if tasks <= expected or time.monotonic() > deadline:
            return tasks
        time.sleep(0.02)


def test_closing_the_stream_stops_the_server_work(serve: ServeFactory) -> None:
    server = serve(LONG)
    idle = server_tasks(server)
    client = openai_client(server, "long")
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x" * 2000}], stream=True
    )
    for i, _ in enumerate(stream):
        if i == 10:
            break
    assert server_tasks(server) > idle  # the stream is being played
    stream.close()
    assert wait_for_tasks(server, idle) == idle
    # and the server still serves
    reply = openai_client(server, "long").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello"


async def test_async_client_leaving_a_stall(serve: ServeFactory) -> None:
    server = serve("{name: stall, stream: [{text: a}, stall]}")
    idle = server_tasks(server)
    client = async_openai_client(server, "stall")
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    async for _ in stream:
        break
    await stream.close()
    await client.close()
    await asyncio.sleep(0)
    assert await asyncio.to_thread(wait_for_tasks, server, idle) == idle


def _send_and_close(port: int, abort: bool) -> None:
    """A request written whole, then the connection closed at once (RST if `abort`)."""
    body = json.dumps({"model": "m", "stream": True, "messages": MESSAGES}).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /s/long/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        if abort:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_client_closing_right_after_its_request_is_no_server_failure(serve: ServeFactory) -> None:
    server = serve(LONG, time_scale=0)
    for number in range(100):
        _send_and_close(server.port, abort=number % 2 == 1)
    deadline = time.monotonic() + 5
    while len(server.requests) < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    entries = server.requests
    assert len(entries) == 100
    # each is journalled as leaving early, or (when the stream beat the close) as
    # finished; most never got their headers out
    assert all(e.left_early or e.events_sent == e.events_total for e in entries)
    assert any(e.left_early and e.events_sent == 0 for e in entries)
    assert server.take_failures() == []  # the fixture would fail the test at teardown


def test_server_failures_are_bounded_cleared_by_reset_and_hold_no_plan(
    serve: ServeFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(LONG, time_scale=0)

    def broken(*args: object, **kwargs: object) -> object:
        plan = b"x" * 1_000_000  # a big local: the kept failure must not hold it
        raise RuntimeError(f"a bug of ours ({len(plan)})")

    monkeypatch.setattr("mockserver.server.app._plan", broken)
    client = openai_client(server, "long")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    failures = server.take_failures()
    assert [str(f) for f in failures] == ["a bug of ours (1000000)"]
    frames = [frame for frame, _ in traceback.walk_tb(failures[0].__traceback__)]
    assert frames[-1].f_code.co_name == "broken" and "plan" not in frames[-1].f_locals

    for _ in range(MAX_FAILURES + 5):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="m", messages=MESSAGES)
    assert len(server._call(lambda state: state.failures)) == MAX_FAILURES
    server.reset()
    assert server.take_failures() == []
    caplog.clear()  # the errors logged above were this test's own
