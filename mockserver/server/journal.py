"""The request journal: what each request sent and what it got.

Bounded twice, so neither a long chaos session nor a few huge requests can eat
memory: at most `size` entries and about `max_bytes` of them (the oldest go
first). A body over `max_body` is kept as its size, hash and first characters
only. Credentials are masked: a journal is shown in logs and consoles.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

DEFAULT_SIZE = 10_000
DEFAULT_BYTES = 64 * 1024 * 1024
DEFAULT_ENTRY_BODY = 1024 * 1024  # a body larger than this is kept truncated
BODY_HEAD = 1024  # characters of a truncated body kept, to see what it was
# A parsed JSON body takes about this many times its size in memory.
_PARSED_FACTOR = 3
_ENTRY_OVERHEAD = 1024  # an entry's own fields and dict, roughly

# Headers that carry credentials, shown masked (enough to tell keys apart).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)


def timeline(writes: Sequence[float] | None) -> list[list[float]] | None:
    """A flat timeline (due, sent, bytes, ...) as [due, sent, bytes] triples."""
    if not writes:
        return None
    return [[writes[i], writes[i + 1], int(writes[i + 2])] for i in range(0, len(writes) - 2, 3)]


def mask(value: str) -> str:
    """`Bearer sk-abc…wxyz`: the scheme, the first three and last four characters of a
    long key, fewer of a short one, never the whole."""
    scheme, space, token = value.partition(" ")
    if not space or len(scheme) > 16:
        scheme, token = "", value
    else:
        scheme += " "
    if len(token) >= 16:
        shown = f"{token[:3]}…{token[-4:]}"
    elif len(token) >= 8:
        shown = f"…{token[-2:]}"
    else:
        shown = "…"
    return scheme + shown


def masked(headers: dict[str, str]) -> dict[str, str]:
    shown = {k: mask(v) if k in SECRET_HEADERS else v for k, v in headers.items()}
    if "cookie" in shown:
        shown["cookie"] = "…"  # many values in one: none of them is shown
    return shown


@dataclass(slots=True)
class Entry:
    """One request. Created when it arrives, completed when its answer ends."""

    time: float
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    id: int = 0  # counts up from 1 per server: `GET /_mock/requests?after=ID` pages on it
    body_size: int = 0  # bytes of the request body
    body_truncated: bool = False  # too large to keep: `json` is None, see the next two
    body_sha256: str | None = None
    body_head: str | None = None
    scenario: str | None = None  # None: the auto-responder, or no scenario (a 400/404)
    response_index: int | None = None
    status: int | None = None  # None while unanswered, or when no response was sent
    events_sent: int = 0
    events_total: int = 0  # how many the plan had (a long stream: as far as it was rendered)
    bytes_sent: int = 0
    fault: str | None = None
    turn: int | None = None  # a `conversation:` scenario's turn this request was
    conversation: str | None = None  # which conversation (from the session and first message)
    warnings: list[str] | None = None  # what the client echoed wrong (tool-call ids, arguments)
    skipped: list[str] | None = None  # step kinds of the response this API has no form for
    ending: str | None = None  # close, disconnect, reset or stall, as scripted
    left_early: bool = False  # the client closed the connection before the stream ended
    left_after_event: int | None = None  # how many events it had been sent then
    duration: float | None = None  # seconds, once finished
    api: str | None = None  # which API answered (chat, gemini, ...)
    # each write as [when it was due, when it went out, its bytes] (seconds after the
    # headers), and when the client left (same clock): the console draws them
    writes: Sequence[float] | None = None  # flat: due, sent, bytes, due, sent, bytes, ...
    left_at: float | None = None
    sent: str | None = None  # the start of what was sent, as text
    # for the verdicts (server/verdicts.py)
    peer: str | None = None  # the client's address and port: one connection
    fingerprint: str | None = None  # method, path and body hashed: the same request sent again
    retry_after: float | None = None  # seconds the answer asked the client to wait (retry-after[-ms])
    blocked: float = 0.0  # seconds writes waited on a slow reader
    tool_results: int = 0  # tool results the request carried
    live: Any = None  # while it is answered: the player's Outcome (how long a write has waited)
    finished: bool = False
    cost: int = 0  # bytes this entry is counted as holding
    held: bool = True  # still in the journal (not dropped or cleared)

    def to_dict(self) -> dict[str, Any]:
        live, self.live = self.live, None  # not data: asdict would copy it
        try:
            out = asdict(self)
        finally:
            self.live = live
        del out["cost"], out["held"], out["live"]
        out["writes"] = timeline(self.writes)
        return out


@dataclass
class Journal:
    size: int = DEFAULT_SIZE
    max_bytes: int = DEFAULT_BYTES
    max_body: int = DEFAULT_ENTRY_BODY
    dropped: int = 0
    open: int = 0  # requests recorded and not yet finished (entries cleared or not)
    held_bytes: int = 0  # what the kept entries are counted as holding
    _entries: deque[Entry] = field(default_factory=deque)
    _last_id: int = 0

    def record(self, method: str, path: str, headers: dict[str, str]) -> Entry:
        self._last_id += 1
        kept = masked(headers)
        entry = Entry(time.time(), method, path, kept, None, id=self._last_id)
        entry.cost = _ENTRY_OVERHEAD + sum(len(k) + len(v) for k, v in kept.items()) + len(path)
        self._entries.append(entry)
        self.held_bytes += entry.cost
        self.open += 1
        self._trim()
        return entry

    def keep_body(self, entry: Entry, data: bytes, parsed: Any) -> None:
        """The request's body for the journal: parsed, or truncated if too large."""
        entry.body_size = len(data)
        if len(data) > self.max_body:
            entry.body_truncated = True
            entry.body_sha256 = hashlib.sha256(data).hexdigest()
            entry.body_head = data[: BODY_HEAD * 4].decode("utf-8", "replace")[:BODY_HEAD]
            added = BODY_HEAD + 64
        else:
            entry.json = parsed
            added = len(data) * _PARSED_FACTOR
        entry.cost += added
        if entry.held:
            self.held_bytes += added
            self._trim()

    def finish(self, entry: Entry) -> None:
        if not entry.finished:
            entry.finished = True
            self.open -= 1
            added = len(entry.writes or ()) * 8 + len(entry.sent or "")
            entry.cost += added
            if entry.held:
                self.held_bytes += added
                self._trim()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: int) -> Entry | None:
        """A copy of the entry with this id, while the journal holds it."""
        for entry in reversed(self._entries):
            if entry.id == entry_id:
                return replace(entry, headers=dict(entry.headers))
            if entry.id < entry_id:
                break
        return None

    def snapshot(self) -> list[Entry]:
        """Copies of the entries, oldest first (safe to hand to another thread)."""
        return [replace(e, headers=dict(e.headers)) for e in self._entries]

    def entries(self) -> list[Entry]:
        """The entries themselves, oldest first (for the loop's own reading: verdicts)."""
        return list(self._entries)

    def page(self, after: int = 0, limit: int | None = None) -> tuple[list[Entry], bool]:
        """Copies of the entries with an id above `after`, oldest first, at most
        `limit` of them; and whether more follow."""
        chosen = [e for e in self._entries if e.id > after]
        more = limit is not None and len(chosen) > limit
        chosen = chosen[:limit] if limit is not None else chosen
        return [replace(e, headers=dict(e.headers)) for e in chosen], more

    def clear(self) -> None:
        """Forget every entry; requests still open finish into the void (and still
        count as open until they do)."""
        for entry in self._entries:
            entry.held = False
        self._entries.clear()
        self.dropped = 0
        self.held_bytes = 0

    def _trim(self) -> None:
        while self._entries and (len(self._entries) > self.size or self.held_bytes > self.max_bytes):
            if len(self._entries) == 1:
                break  # the newest is always kept, whatever its size (size is at least 1)
            old = self._entries.popleft()
            old.held = False
            self.held_bytes -= old.cost
            self.dropped += 1
