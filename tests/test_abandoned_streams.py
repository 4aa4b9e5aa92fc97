"""1,000 clients leave long streams at random points: afterwards the server holds no
extra task, timer, socket or open stream, and serves the next request as usual."""

from __future__ import annotations

import asyncio
import random
import time

import httpx

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

LONG = """
name: long
timing: {interval: 5ms}
split: chars
stream:
  - text: "%s"
""" % ("x" * 400)


def stats(server: MockServer) -> dict[str, int]:
    return dict(httpx.get(server.url + "/_mock/stats").json())


async def leave_at_random(port: int, clients: int, seed: int) -> int:
    rng = random.Random(seed)
    body = b'{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}'
    request = (
        b"POST /s/long/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )

    async def one(stay: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        got = 0
        while got < stay:
            data = await reader.read(4096)
            if not data:
                break
            got += data.count(b"\n\n")
        writer.transport.abort()  # leave abruptly, mid-stream
        return got

    counts = await asyncio.gather(*(one(rng.randint(1, 300)) for _ in range(clients)))
    return sum(counts)


def test_a_thousand_clients_leave_and_nothing_stays(serve: ServeFactory) -> None:
    server = serve(LONG)
    before = stats(server)
    assert asyncio.run(leave_at_random(server.port, 1000, seed=5)) > 1000
    deadline = time.monotonic() + 10
    while (now := stats(server))["open_streams"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert now["open_streams"] == 0
    assert now["tasks"] <= before["tasks"]
    assert now["timers"] <= before["timers"] + 1
    assert now["open_files"] <= before["open_files"] + 2
    entries = server.requests
    assert len(entries) == 1000 and all(e.finished for e in entries)
    # each left mid-stream; on a starved machine a stream can fall so far behind that
    # its rest goes out in one write before its client leaves: it then counts as whole
    assert all(e.left_early or e.events_sent == e.events_total for e in entries)
    assert any(e.left_early for e in entries)
    assert all(0 < (e.left_after_event or 0) < e.events_total for e in entries if e.left_early)
    reply = openai_client(server, "long").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "x" * 400
