"""The request journal (SPEC §8): what each request sent and what it got, bounded
so a long chaos session cannot eat memory."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any

DEFAULT_SIZE = 10_000


@dataclass(slots=True)
class Entry:
    """One request. Created when it arrives, completed when its answer ends."""

    time: float
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    scenario: str | None = None  # None: the auto-responder, or no scenario (a 400/404)
    response_index: int | None = None
    status: int | None = None  # None while unanswered, or when no response was sent
    events_sent: int = 0
    events_total: int = 0  # how many the plan had
    bytes_sent: int = 0
    fault: str | None = None
    ending: str | None = None  # close, disconnect, reset or stall, as scripted
    left_early: bool = False  # the client closed the connection before the stream ended
    left_after_event: int | None = None  # how many events it had been sent then
    duration: float | None = None  # seconds, once finished
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Journal:
    size: int = DEFAULT_SIZE
    dropped: int = 0
    open: int = 0  # requests recorded and not yet finished
    _entries: deque[Entry] = field(default_factory=deque)

    def record(self, method: str, path: str, headers: dict[str, str]) -> Entry:
        entry = Entry(time.time(), method, path, headers, None)
        if len(self._entries) >= self.size:
            self._entries.popleft()
            self.dropped += 1
        self._entries.append(entry)
        self.open += 1
        return entry

    def finish(self, entry: Entry) -> None:
        if not entry.finished:
            entry.finished = True
            self.open -= 1

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> list[Entry]:
        """Copies of the entries, oldest first (safe to hand to another thread)."""
        return [replace(e, headers=dict(e.headers)) for e in self._entries]

    def clear(self) -> None:
        """Forget every entry; requests still open finish into the void."""
        self._entries.clear()
        self.dropped = 0
        self.open = 0
