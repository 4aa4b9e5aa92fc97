"""A Plan: everything the player needs to answer one request — status, headers,
the body and when each piece of it is written, and how the connection ends. Pure
data. The body is one bytes object cut at `cuts`, so a plan is cheap to copy with
other ids (see server/plans.py) and the player slices instead of joining.

A long stream's plan holds only its first slice of the body; `rest` renders the
others as the player asks for them, so the first event never waits for the last
to be rendered. The bytes are the same either way: slices only cut the body."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from ..scenario.model import WriteSize

Ending = Literal["close", "disconnect", "reset", "stall"]
BATCH = 256  # events a renderer makes before handing them on (see DataStream.events)
SLICE = 1024  # events a slice of a long stream's body holds
FIRST_SLICE = 64  # and its first slice: what the first write waits for


class Write(NamedTuple):
    at: float  # seconds after the headers are sent
    data: bytes
    events: int  # how many events this write completes


class Cut(NamedTuple):
    at: float  # when the piece of body ending here is written
    end: int  # where in the body it ends (it starts where the cut before ends)
    events: int  # how many events it completes


Slice = tuple[bytes, tuple[Cut, ...]]  # a body, or a slice of one, and its cuts


@dataclass(frozen=True, slots=True)
class Plan:
    status: int
    headers: tuple[tuple[str, str], ...]
    streaming: bool  # a chunked body written over time; else one body sent at cuts[0].at
    body: bytes = b""
    cuts: tuple[Cut, ...] = ()
    ending: Ending = "close"
    ending_at: float = 0.0
    hold: float | None = None  # for "stall": how long before dropping; None = until the client leaves
    headers_delay: float = 0.0
    coalesce: bool = True  # writes already due may be merged (not when write_size cuts them)
    # the tool calls it makes, as (id on the wire, name, arguments JSON): the ids the
    # client must echo back in its next turn
    issued: tuple[tuple[str, str, str], ...] = ()
    # the body's later slices, rendered as they are read: (body, cuts) each, cuts
    # counted from the slice's start. Read once, by the player or by whole().
    rest: Iterator[Slice] | None = None

    def whole(self) -> Plan:
        """The plan with its body all rendered (the plan itself if it already is)."""
        if self.rest is None:
            return self
        body, cuts = bytearray(self.body), list(self.cuts)
        for piece, piece_cuts in self.rest:
            offset = len(body)
            body += piece
            cuts += [Cut(c.at, c.end + offset, c.events) for c in piece_cuts]
        return replace(self, body=bytes(body), cuts=tuple(cuts), rest=None)

    @property
    def writes(self) -> tuple[Write, ...]:
        """The body as (time, bytes, events) writes."""
        start, writes = 0, []
        for cut in self.cuts:
            writes.append(Write(cut.at, self.body[start : cut.end], cut.events))
            start = cut.end
        return tuple(writes)

    @property
    def events_total(self) -> int:
        return sum(c.events for c in self.cuts)


def pack(writes: Iterable[Write]) -> tuple[bytes, tuple[Cut, ...]]:
    """Writes as one body and its cuts."""
    pieces, cuts, end = [], [], 0
    for write in writes:
        pieces.append(write.data)
        end += len(write.data)
        cuts.append(Cut(write.at, end, write.events))
    return b"".join(pieces), tuple(cuts)


def sliced(events: Iterable[TimedEvent]) -> tuple[Slice, Iterator[Slice]]:
    """A long body grouped (see group) slice by slice: its first slice, small so that
    it is out at once, and an iterator that renders the others when asked."""
    stream = iter(events)

    def later() -> Iterator[Slice]:
        while piece := list(itertools.islice(stream, SLICE)):
            yield group(piece)

    return group(list(itertools.islice(stream, FIRST_SLICE))), later()


class TimedEvent(NamedTuple):  # a tuple: made once per event of every stream
    at: float
    data: bytes
    events: int = 1  # raw bytes (a `raw` step) count as one event


def group(events: list[TimedEvent]) -> Slice:
    """The body, cut once per moment: events due at the same time share a write."""
    cuts: list[Cut] = []
    end = count = 0
    at = events[0].at if events else 0.0
    for event_at, data, events_in in events:
        if event_at != at:
            cuts.append(Cut(at, end, count))
            at, count = event_at, 0
        end += len(data)
        count += events_in
    if events:
        cuts.append(Cut(at, end, count))
    return b"".join([e.data for e in events]), tuple(cuts)


def cut_writes(events: list[TimedEvent], size: WriteSize, seed: str) -> Slice:
    """`transport.write_size`: the byte stream cut into writes of that (seeded) size,
    so events arrive split at arbitrary byte boundaries. Bytes due at different
    moments are never held back to fill a write."""
    rng = random.Random(seed + "/writes")

    def next_size() -> int:
        return size.minimum if size.minimum == size.maximum else rng.randint(size.minimum, size.maximum)

    writes: list[Write] = []
    left = next_size()  # bytes still to go in the write being filled
    body, cuts = group(events)
    start = 0
    for cut in cuts:
        moment = Write(cut.at, body[start : cut.end], cut.events)
        start = cut.end
        data, position, remaining_events = moment.data, 0, moment.events
        while position < len(data):
            take = min(left, len(data) - position)
            piece = data[position : position + take]
            position += take
            left -= take
            done = position == len(data)
            writes.append(Write(moment.at, piece, remaining_events if done else 0))
            if left == 0:
                left = next_size()
    return pack(writes)
