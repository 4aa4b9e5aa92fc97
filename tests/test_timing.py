"""Timing is kept against the clock (generous bounds: benchmarks in bench/ give figures)."""

from __future__ import annotations

import time

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

TWENTY = """
name: twenty
timing: {first: 100ms, interval: 50ms}
split: words
stream:
  - text: "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20"
"""


def arrivals(server: MockServer, name: str) -> tuple[float, list[float]]:
    client = openai_client(server, name)
    sent = time.monotonic()
    times = []
    for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            times.append(time.monotonic())
    return sent, times


def test_twenty_chunks_arrive_on_schedule(serve: ServeFactory) -> None:
    server = serve(TWENTY)
    sent, times = arrivals(server, "twenty")
    assert len(times) == 20
    first = times[0]
    assert 0.08 < first - sent < 0.6  # `first: 100ms` after the headers
    for k, at in enumerate(times):
        # each chunk k*50ms after the first, within a generous 40 ms
        assert abs((at - first) - k * 0.05) < 0.04, f"chunk {k} at {at - first:.3f}s"


def test_time_scale_zero_plays_at_once(serve: ServeFactory) -> None:
    server = serve(TWENTY, time_scale=0)
    sent, times = arrivals(server, "twenty")
    assert len(times) == 20 and times[-1] - sent < 0.5


def test_time_scale_half_halves_the_delays(serve: ServeFactory) -> None:
    server = serve(TWENTY, time_scale=0.5)
    _sent, times = arrivals(server, "twenty")
    assert 0.35 < times[-1] - times[0] < 0.75  # 19 intervals of 25 ms = 0.475 s


def test_delay_and_wait(serve: ServeFactory) -> None:
    server = serve("""
        name: paced
        timing: {interval: 10ms}
        stream:
          - text: a
          - text: b
            delay: 300ms
          - wait: 300ms
          - text: c
    """)
    _, (a, b, c) = arrivals(server, "paced")
    assert 0.25 < b - a < 0.5  # delay replaces the interval
    assert 0.28 < c - b < 0.55  # wait adds a pause before the next interval


def test_headers_delay(serve: ServeFactory) -> None:
    server = serve("{name: slow, transport: {headers_delay: 300ms}, stream: [{text: x}]}")
    sent, (x,) = arrivals(server, "slow")
    assert 0.25 < x - sent < 1.0
