"""The player: a Plan over the wire on schedule.

Deadlines are kept against the loop clock from the moment the headers are sent,
so a long stream does not drift. The body's writes are the server's ticker's
(ticker.py) while it can make them; this coroutine takes over for what it does
not do (a pause, a slow reader, a long stream's next slice) and for the ending.
When the client leaves, aiohttp cancels the handler (handler_cancellation) and
the player stops at once: its waits are the ticker's future, `asyncio.sleep` and
the transport's drain, so nothing is left.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from array import array
from dataclasses import dataclass, field

from aiohttp import web

from ..render.plan import Plan
from .ticker import HIGH_WATER, Playing, Ticker, chunk, due_through

# A backstop for servers run without handler_cancellation (ours always have it): a
# stall checks this often whether its client is still there.
_STALL_CHECK = 10.0
LARGE_BODY = 1 << 20  # a whole (not streamed) body larger than this is written in pieces
MAX_TIMELINE = 2000  # writes a request's timeline keeps (the console draws them)
TIMELINE_NUMBERS = 3 * MAX_TIMELINE
SENT_HEAD = 8192  # bytes of what was sent the journal keeps
_RUNNING = asyncio.Event()  # for callers without a pause: never cleared
_RUNNING.set()
BLOCKED = 0.002  # seconds a write must wait to count as blocked (not the loop's own jitter)


@dataclass(slots=True)
class Outcome:
    """What happened while playing, for the log and the journal."""

    status: int = 0
    events_sent: int = 0
    events_total: int = 0
    bytes_sent: int = 0
    left_early: bool = False
    headers_sent: bool = False
    ending: str = "close"
    # the timeline: the loop time the schedule's clock started at, and per write three
    # numbers (when it was due, when it went out, both after that start; its bytes). A
    # flat array of doubles, not tuples: tuples are objects the garbage collector
    # tracks, and thousands of them a second make its pauses long enough to see as drift.
    clock: float | None = None
    writes: array[float] = field(default_factory=lambda: array("d"))
    sent: bytes = b""  # the first SENT_HEAD bytes written
    # backpressure: seconds spent waiting for the client to take what was written, and
    # since when the current write has waited (None: not waiting)
    blocked: float = 0.0
    blocked_since: float | None = None

    def wrote(self, due: float, sent: float, size: int, events: int) -> None:
        """A write of `size` bytes completing `events` events: due and sent at these
        times after the clock's start."""
        writes = self.writes
        if len(writes) < TIMELINE_NUMBERS:  # three numbers a write, one by one (no tuple)
            writes.append(due)
            writes.append(sent)
            writes.append(size)
        self.events_sent += events
        self.bytes_sent += size


async def play(
    request: web.Request,
    plan: Plan,
    time_scale: float,
    outcome: Outcome,
    running: asyncio.Event | None = None,
    ticker: Ticker | None = None,
) -> web.StreamResponse:
    """Send `plan`. While `running` is cleared (the console's pause), no stream writes.
    A stream's writes are the `ticker`'s while it can make them (without one, all are
    this coroutine's)."""
    outcome.status = plan.status
    outcome.events_total = plan.events_total
    outcome.ending = plan.ending
    loop = asyncio.get_running_loop()
    if plan.headers_delay:
        await asyncio.sleep(plan.headers_delay * time_scale)
    start = loop.time()
    outcome.clock = start

    if not plan.streaming and plan.cuts:
        await _sleep_until(start + plan.cuts[0].at * time_scale)
        outcome.events_sent = plan.cuts[0].events
        outcome.bytes_sent = len(plan.body)
        outcome.writes.extend((plan.cuts[0].at * time_scale, loop.time() - start, len(plan.body)))
        outcome.sent = bytes(plan.body[:SENT_HEAD])
        if len(plan.body) > LARGE_BODY:
            return await _write_large(request, plan, outcome)
        answer = web.Response(status=plan.status, headers=dict(plan.headers), body=plan.body)
        if plan.status in (408, 413):
            answer.force_close()  # the request body was not all read: the connection is spent
        return answer

    if running is None:
        running = _RUNNING
    if plan.streaming:
        response = web.StreamResponse(status=plan.status, headers=dict(plan.headers))
        response.enable_chunked_encoding()
        await response.prepare(request)
        outcome.headers_sent = True
        start = loop.time()  # the schedule's clock starts when the headers are out
        outcome.clock = start
        if not await _write(request, plan, start, time_scale, outcome, running, ticker):
            return response
    else:  # the connection fails before any response
        response = web.StreamResponse()  # never sent: the transport is gone by then

    ending, ending_at, hold = plan.ending, plan.ending_at, plan.hold
    del plan  # written: an open stream need not keep it
    await _sleep_until(start + ending_at * time_scale)
    if ending == "close":
        try:
            await response.write_eof()
        except ConnectionError:
            outcome.left_early = True
        return response
    transport = request.transport
    if transport is None:
        return response
    if ending == "stall":
        # Held here rather than in a helper: thousands of stalled streams each keep
        # this frame, and one frame fewer is memory saved. The client leaving cancels
        # us (handler cancellation); the loop is a backstop for servers without it.
        deadline = None if hold is None else loop.time() + hold * time_scale
        while not transport.is_closing():
            remaining = _STALL_CHECK if deadline is None else min(_STALL_CHECK, deadline - loop.time())
            if remaining <= 0:
                break
            await asyncio.sleep(remaining)
        transport.close()
    elif ending == "reset":
        await reset_connection(transport)
    else:
        transport.close()  # disconnect: what was written, then FIN, no chunked terminator
    return response


async def _write_large(request: web.Request, plan: Plan, outcome: Outcome) -> web.StreamResponse:
    """A large body (an embeddings reply can be 130 MB) in pieces, each written when
    the last has drained: one huge write would hold the loop while it is buffered."""
    response = web.StreamResponse(status=plan.status, headers=dict(plan.headers))
    response.content_length = len(plan.body)
    await response.prepare(request)
    outcome.headers_sent = True
    body = memoryview(plan.body)
    del plan
    for begin in range(0, len(body), LARGE_BODY):
        await response.write(body[begin : begin + LARGE_BODY])
    await response.write_eof()
    return response


async def _write(
    request: web.Request,
    plan: Plan,
    start: float,
    time_scale: float,
    outcome: Outcome,
    running: asyncio.Event,
    ticker: Ticker | None,
) -> bool:
    """The plan's body, each piece when it is due, slice after slice as they render.
    False when the client left.

    The ticker writes it while it can (see ticker.py); this coroutine goes on from
    where it stopped, or writes a long stream that renders as it plays."""
    loop = asyncio.get_running_loop()
    transport = request.transport
    body, cuts, rest = plan.body, plan.cuts, plan.rest
    if transport is None:
        outcome.left_early = True
        return False
    position = begin = 0
    if ticker is not None and plan.coalesce and rest is None and cuts:
        handed_back = await _on_ticker(ticker, transport, plan, start, time_scale, outcome, running)
        if handed_back is None:  # all written, or the client left
            return not outcome.left_early
        position, begin = handed_back, cuts[handed_back - 1].end if handed_back else 0
        if transport.get_write_buffer_size() > HIGH_WATER:
            await _wait_for_reader(request, outcome, loop.time())
    sent = bytearray()  # the head of what went out, kept as slices are let go
    try:
        coalesce = plan.coalesce
        while True:
            if position == len(cuts):  # this slice written: render the next one
                if len(sent) < SENT_HEAD:
                    sent += body[: SENT_HEAD - len(sent)]
                body, begin = b"", 0
                if rest is None:
                    break
                await asyncio.sleep(0)  # what else is due runs between two slices
                piece = next(rest, None)
                if piece is None:
                    break
                body, cuts = piece
                position = begin = 0
                outcome.events_total += sum(c.events for c in cuts)
                continue
            await _sleep_until(start + cuts[position].at * time_scale)
            # the clock read before the write: what is already due joins it (coalesce),
            # and the time the write then waits on the client is its backpressure
            before = loop.time()
            if coalesce:
                position, events = due_through(cuts, position, start, time_scale, before)
            else:
                position, events = position + 1, cuts[position].events
            end = cuts[position - 1].end
            if not running.is_set():
                await running.wait()  # paused from the console
                before = loop.time()
            if transport.is_closing():
                outcome.left_early = True
                return False
            transport.write(chunk(body[begin:end]))
            if transport.get_write_buffer_size() > HIGH_WATER:
                await _wait_for_reader(request, outcome, before)
            outcome.wrote(cuts[position - 1].at * time_scale, loop.time() - start, end - begin, events)
            begin = end
        return True
    finally:  # what went out, copied once (a copy per write would make a stream quadratic)
        if len(sent) < SENT_HEAD:
            sent += body[: min(begin, SENT_HEAD - len(sent))]
        outcome.sent = bytes(sent)


async def _on_ticker(
    ticker: Ticker,
    transport: asyncio.Transport,
    plan: Plan,
    start: float,
    time_scale: float,
    outcome: Outcome,
    running: asyncio.Event,
) -> int | None:
    """The plan's body written by the ticker: None when it is all written (or the
    client left), else the cut to go on from."""
    done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
    playing = Playing(transport, plan.body, plan.cuts, start, time_scale, outcome, running, done)
    ticker.play(playing)
    try:
        return await done
    finally:
        playing.over = True  # the client left (we were cancelled): the ticker lets it go
        outcome.sent = bytes(plan.body[: min(playing.begin, SENT_HEAD)])


async def _wait_for_reader(request: web.Request, outcome: Outcome, since: float) -> None:
    """Wait for a client that reads slowly to take what was written: backpressure,
    counted from `since` (also when the client leaves meanwhile)."""
    outcome.blocked_since = since
    try:
        await request.writer.drain()
    finally:
        outcome.blocked_since = None
        waited = asyncio.get_running_loop().time() - since
        if waited > BLOCKED:  # more than the loop's own jitter: the transport's buffer was full
            outcome.blocked += waited


async def _sleep_until(deadline: float) -> None:
    delay = deadline - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


async def reset_connection(transport: asyncio.Transport) -> None:
    """Abort the connection with a TCP RST, once what was written has left."""
    await _drain(transport)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger on, with a zero timeout: close() sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _drain(transport: asyncio.BaseTransport) -> None:
    """Let the bytes already written reach the kernel before an RST discards them."""
    if not isinstance(transport, asyncio.WriteTransport):
        return
    for _ in range(100):
        if transport.is_closing() or transport.get_write_buffer_size() == 0:
            return
        await asyncio.sleep(0.01)
