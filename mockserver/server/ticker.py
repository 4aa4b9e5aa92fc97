"""One timer for every open stream.

A stream played by a coroutine of its own pays, for every write, a sleep (a future
and a timer), a task wake-up and the web framework's general write path. Here the
open streams wait in one heap instead: one timer wakes for the earliest, and each
wake-up writes every stream then due, each write one HTTP chunk straight to its
transport. A thousand streams on a 20 ms beat are a handful of wake-ups per beat,
not a thousand (see GRAIN).

What this path does not do goes back to the player's coroutine, from where the
stream stands: waiting out a pause (the console's), waiting for a client that does
not take what was written (backpressure), rendering a long stream's next slice.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import TYPE_CHECKING

from ..render.plan import Cut

if TYPE_CHECKING:
    from .player import Outcome

# A wake-up also writes the streams due within this much after it: streams that
# started apart (a burst of requests) are seldom due at the same instant, and a
# wake-up each would cost more than the stream's write (uvloop runs a timer due in
# under a millisecond at its next turn, so they would not even share a loop turn).
# Half a millisecond early is below the loop's own jitter; a lone stream is never early.
GRAIN = 0.0005
HIGH_WATER = 1 << 16  # bytes a client may leave unread before a write waits for it
CRLF = b"\r\n"


def chunk(data: bytes | memoryview) -> bytes:
    """`data` as one HTTP/1.1 chunk."""
    return b"".join((b"%x\r\n" % len(data), data, CRLF))


def due_through(
    cuts: tuple[Cut, ...], position: int, start: float, scale: float, now: float
) -> tuple[int, int]:
    """What one write at `now` takes: the cut at `position` and every later one due by
    then. (The position after them, the events they complete.)"""
    events = cuts[position].events
    position += 1
    while position < len(cuts) and start + cuts[position].at * scale <= now:
        events += cuts[position].events
        position += 1
    return position, events


class Playing:
    """A stream the ticker writes, and where it stands in its plan."""

    __slots__ = (
        "begin",
        "body",
        "cuts",
        "done",
        "outcome",
        "over",
        "position",
        "running",
        "scale",
        "start",
        "transport",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        body: bytes,
        cuts: tuple[Cut, ...],
        start: float,
        scale: float,
        outcome: Outcome,
        running: asyncio.Event,
        done: asyncio.Future[int | None],
    ) -> None:
        self.transport = transport
        self.body = memoryview(body)
        self.cuts = cuts
        self.start = start
        self.scale = scale
        self.outcome = outcome
        self.running = running
        # set when the ticker is through with it: None (all written, or the client
        # left), or the position of the cut the player's coroutine goes on from
        self.done = done
        self.position = 0
        self.begin = 0  # where in the body the next write starts
        self.over = False  # the player stopped waiting (cancelled): drop it when due

    def due(self) -> float:
        return self.start + self.cuts[self.position].at * self.scale

    def write(self, now: float) -> float | None:
        """Write what is due by `now`; when the next write is due, or None when the
        ticker is through with the stream."""
        transport, cuts, outcome = self.transport, self.cuts, self.outcome
        if transport.is_closing():
            outcome.left_early = True
            self._finish(None)
            return None
        if not self.running.is_set():
            self._finish(self.position)  # paused: the coroutine waits
            return None
        start, scale = self.start, self.scale
        position, events = due_through(cuts, self.position, start, scale, now)
        begin, end = self.begin, cuts[position - 1].end
        transport.write(chunk(self.body[begin:end]))
        outcome.wrote(cuts[position - 1].at * scale, now - start, end - begin, events)
        self.position, self.begin = position, end
        if transport.get_write_buffer_size() > HIGH_WATER:
            self._finish(position)  # the client is behind: the coroutine waits for it
            return None
        if position == len(cuts):
            self._finish(None)
            return None
        return start + cuts[position].at * scale

    def _finish(self, result: int | None) -> None:
        if not self.done.done():
            self.done.set_result(result)


class Ticker:
    """The heap of open streams by when each next writes, and the one timer. A
    server's own (ServerState.ticker): it binds to the loop its first stream plays on."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.heap: list[tuple[float, int, Playing]] = []
        self.order = itertools.count()  # ties go in the order streams were added
        self.timer: asyncio.TimerHandle | None = None
        self.armed_for = float("inf")

    def play(self, stream: Playing) -> None:
        loop = self.loop
        if loop is None:
            loop = self.loop = asyncio.get_running_loop()
        when = stream.due()
        now = loop.time()
        if when <= now:  # due already (no first delay): written now, not a loop turn later
            next_when = stream.write(now)
            if next_when is None:
                return
            when = next_when
        heapq.heappush(self.heap, (when, next(self.order), stream))
        if when < self.armed_for:
            self._arm(loop, when)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.armed_for = when
        self.timer = loop.call_at(when, self._fire)

    def _fire(self) -> None:
        loop = self.loop
        assert loop is not None  # armed only by play(), which binds it
        self.timer, self.armed_for = None, float("inf")
        heap, order = self.heap, self.order
        now = loop.time()
        horizon = now + GRAIN
        while heap and heap[0][0] <= horizon:
            stream = heapq.heappop(heap)[2]
            if stream.over:
                continue
            try:
                when = stream.write(now)
            except Exception as exc:  # a bug of ours: the stream's own request reports it
                stream.over = True
                if not stream.done.done():
                    stream.done.set_exception(exc)
                continue
            if when is not None:
                heapq.heappush(heap, (when, next(order), stream))
        if heap:
            self._arm(loop, heap[0][0])
