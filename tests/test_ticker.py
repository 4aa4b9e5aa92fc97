"""The ticker writes every open stream from one timer: streams due together in one
wake-up, each write one HTTP chunk; what it does not do (a pause, a client that is
behind) it hands back to the player's coroutine at the stream's position."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.render.plan import Cut
from mockserver.server.player import Outcome
from mockserver.server.ticker import HIGH_WATER, Playing, Ticker, chunk

BODY = b"aaabbbbcc"
CUTS = (Cut(0.0, 3, 1), Cut(0.01, 7, 1), Cut(0.02, 9, 2))


class Transport:
    """Stands in for a socket's transport: keeps what is written, and when."""

    def __init__(self, loop: asyncio.AbstractEventLoop, buffered: int = 0) -> None:
        self.loop = loop
        self.written: list[tuple[float, bytes]] = []
        self.closing = False
        self.buffered = buffered

    def write(self, data: bytes) -> None:
        self.written.append((self.loop.time(), data))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered


def start(ticker: Ticker, transport: Any, running: asyncio.Event, at: float) -> Playing:
    done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
    playing = Playing(transport, BODY, CUTS, at, 1.0, Outcome(), running, done)
    ticker.play(playing)
    return playing


def test_streams_due_together_are_written_in_one_wake_up_each_write_a_chunk() -> None:
    transports, streams, fires = asyncio.run(play_many(spread=0.0))
    for transport, stream in zip(transports, streams, strict=True):
        assert [data for _, data in transport.written] == [chunk(b"aaa"), chunk(b"bbbb"), chunk(b"cc")]
        assert stream.outcome.events_sent == 4 and stream.outcome.bytes_sent == 9
        assert len(stream.outcome.writes) == 9  # the timeline: three numbers a write
    # three moments, all 200 streams due at each: a wake-up per moment (a coroutine
    # per stream would be 600), with room for a timer that fires a little early
    assert fires <= 12


def test_streams_that_started_a_little_apart_share_their_wake_ups() -> None:
    """A burst of requests starts its streams microseconds apart: each moment's writes
    still go out in a wake-up or two, not one per stream."""
    uvloop = pytest.importorskip("uvloop")  # a dependency wherever it builds
    # on uvloop, the server's loop: it runs a timer due in under a millisecond at its
    # next turn, so without the ticker's grain each stream would be a wake-up of its own
    transports, _, fires = uvloop.run(play_many(spread=2e-6))  # 200 starts over 0.4 ms
    assert all(len(t.written) == 3 for t in transports)
    assert fires <= 12


async def play_many(spread: float) -> tuple[list[Transport], list[Playing], int]:
    """200 streams of BODY, the k-th starting k times `spread` after the first: their
    transports, their streams and how many times the ticker woke."""
    loop = asyncio.get_running_loop()
    ticker, running = Ticker(), asyncio.Event()
    running.set()
    fires = 0
    fire = ticker._fire

    def counted() -> None:
        nonlocal fires
        fires += 1
        fire()

    ticker._fire = counted  # type: ignore[method-assign]
    at = loop.time() + 0.05
    transports = [Transport(loop) for _ in range(200)]
    streams = [start(ticker, t, running, at + k * spread) for k, t in enumerate(transports)]
    assert await asyncio.wait_for(asyncio.gather(*(s.done for s in streams)), 10) == [None] * 200
    return transports, streams, fires


def test_a_paused_server_hands_the_stream_back_where_it_stands() -> None:
    async def scenario() -> tuple[int | None, Transport]:
        loop = asyncio.get_running_loop()
        ticker, running = Ticker(), asyncio.Event()
        running.set()
        transport = Transport(loop)
        stream = start(ticker, transport, running, loop.time())
        while not transport.written:
            await asyncio.sleep(0.001)
        running.clear()
        return await asyncio.wait_for(stream.done, 5), transport

    position, transport = asyncio.run(scenario())
    assert position == 1 and [d for _, d in transport.written] == [chunk(b"aaa")]


def test_a_client_behind_is_handed_back_after_the_write_and_a_closed_one_ends_the_stream() -> None:
    async def scenario() -> tuple[int | None, int | None, Outcome]:
        loop = asyncio.get_running_loop()
        ticker, running = Ticker(), asyncio.Event()
        running.set()
        behind = start(ticker, Transport(loop, buffered=HIGH_WATER + 1), running, loop.time())
        closed_transport = Transport(loop)
        closed_transport.closing = True
        closed = start(ticker, closed_transport, running, loop.time())
        return await asyncio.wait_for(behind.done, 5), await asyncio.wait_for(closed.done, 5), closed.outcome

    behind, closed, outcome = asyncio.run(scenario())
    assert behind == 1  # its first write went out; the coroutine waits for the client from there
    assert closed is None and outcome.left_early and outcome.events_sent == 0


PACED = """
name: paced
timing: {first: 0ms, interval: 40ms}
split: words
stream:
  - text: "one two three four five six seven eight nine ten"
"""


def test_a_pause_mid_stream_holds_the_ticker_s_stream_and_the_rest_follows(tmp_path: Path) -> None:
    """Paused after three words (the ticker hands the stream to its coroutine), nothing
    more is written until the pause ends; then the rest, in order, and the stream ends."""
    path = tmp_path / "paced.yaml"
    path.write_text(PACED)
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with MockServer([str(path)]) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        words: list[str] = []
        with http.stream("POST", "/s/paced/v1/chat/completions", json=body) as response:
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("data: {") and '"content":"' in line and '"role"' not in line:
                    words.append(json.loads(line[6:])["choices"][0]["delta"]["content"])
                    if len(words) == 3:
                        break
            assert http.post("/_mock/pause", json={"paused": True}).json() == {"paused": True}
            time.sleep(0.1)  # what was due as the pause came may still go out: then nothing
            held = server.requests[-1].live.events_sent  # type: ignore[union-attr]
            time.sleep(0.5)  # twelve beats' worth
            assert server.requests[-1].live.events_sent == held  # type: ignore[union-attr]
            assert http.post("/_mock/pause", json={"paused": False}).json() == {"paused": False}
            for line in lines:
                if line.startswith("data: {") and '"content":"' in line:
                    words.append(json.loads(line[6:])["choices"][0]["delta"]["content"])
    assert "".join(words) == "one two three four five six seven eight nine ten"
    entry = server.requests[-1]
    assert entry.finished and not entry.left_early and entry.events_sent == entry.events_total
