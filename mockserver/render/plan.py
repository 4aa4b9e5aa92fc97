"""A Plan: everything the player needs to answer one request — status, headers,
the body as timed writes, and how the connection ends. Pure data."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ..scenario.model import WriteSize

Ending = Literal["close", "disconnect", "reset", "stall"]


class Write(NamedTuple):
    at: float  # seconds after the headers are sent
    data: bytes
    events: int  # how many events this write completes


@dataclass(frozen=True, slots=True)
class Plan:
    status: int
    headers: tuple[tuple[str, str], ...]
    streaming: bool  # a chunked body written over time; else one body sent at writes[0].at
    writes: tuple[Write, ...]
    ending: Ending = "close"
    ending_at: float = 0.0
    hold: float | None = None  # for "stall": how long before dropping; None = until the client leaves
    headers_delay: float = 0.0
    coalesce: bool = True  # writes already due may be merged (not when write_size cuts them)

    @property
    def events_total(self) -> int:
        return sum(w.events for w in self.writes)


class TimedEvent(NamedTuple):  # a tuple: made once per event of every stream
    at: float
    data: bytes
    events: int = 1  # raw bytes (a `raw` step) count as one event


def group(events: Iterable[TimedEvent]) -> list[Write]:
    """One write per moment: events due at the same time share it."""
    writes: list[Write] = []
    buffer: list[bytes] = []
    count = 0
    at = 0.0
    for event in events:
        if buffer and event.at != at:
            writes.append(Write(at, b"".join(buffer), count))
            buffer, count = [], 0
        at = event.at
        buffer.append(event.data)
        count += event.events
    if buffer:
        writes.append(Write(at, b"".join(buffer), count))
    return writes


def cut_writes(events: Iterable[TimedEvent], size: WriteSize, seed: str) -> list[Write]:
    """`transport.write_size`: the byte stream cut into writes of that (seeded) size,
    so events arrive split at arbitrary byte boundaries. Bytes due at different
    moments are never held back to fill a write."""
    rng = random.Random(seed + "/writes")

    def next_size() -> int:
        return size.minimum if size.minimum == size.maximum else rng.randint(size.minimum, size.maximum)

    writes: list[Write] = []
    left = next_size()  # bytes still to go in the write being filled
    for moment in group(events):
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
    return writes
