"""Verdicts: how the client behaved, judged from the journal (SPEC §17).

Each verdict is pass, fail or not seen, with its evidence (request numbers and times)
and one sentence. Requests are judged per session: their `X-Mock-Session`, else the
client's address. "The same request" is the same method, path and body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .journal import Entry

State = Literal["pass", "fail", "not seen"]
JITTER = 0.9  # a retry may come this share of the asked wait early (clients' jitter)
SLACK = 0.005  # and this many seconds (clocks, the loop)
STUCK = 2.0  # seconds a write waits on a client before it counts as not reading
SLOW = 1.0  # seconds of backpressure on one stream that make a slow reader
NOTICED = 0.05  # seconds of backpressure on a stream worth saying
NAMES = (
    "retry_after",
    "retried_after_output",
    "stall_timeout",
    "cancel",
    "tool_echo",
    "backpressure",
    "keepalive",
)


@dataclass
class Verdict:
    name: str
    state: State
    summary: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "summary": self.summary, "evidence": self.evidence}


def session_of(entry: Entry) -> str:
    session = entry.headers.get("x-mock-session")
    if session:
        return session
    return (entry.peer or "unknown").rsplit(":", 1)[0]


def by_session(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    sessions: dict[str, list[Entry]] = {}
    for entry in entries:
        if not entry.path.startswith("/_mock/"):
            sessions.setdefault(session_of(entry), []).append(entry)
    return sessions


def judge(entries: list[Entry], loop_now: float) -> list[Verdict]:
    """Every verdict on `entries` (one session's, oldest first); `loop_now` is the loop's
    clock (for writes still waiting)."""
    return [
        _retry_after(entries),
        _retried_after_output(entries),
        _stall_timeout(entries),
        _cancel(entries, loop_now),
        _tool_echo(entries),
        _backpressure(entries),
        _keepalive(entries),
    ]


def _end(entry: Entry) -> float:
    return entry.time + (entry.duration or 0.0)


def _later_same(entries: list[Entry], index: int) -> Entry | None:
    first = entries[index]
    return next((e for e in entries[index + 1 :] if e.fingerprint == first.fingerprint), None)


def _retry_after(entries: list[Entry]) -> Verdict:
    evidence, failed = [], 0
    for index, entry in enumerate(entries):
        if entry.status not in (429, 503) or entry.retry_after is None or not entry.finished:
            continue
        retry = _later_same(entries, index)
        if retry is None:
            continue
        waited = retry.time - _end(entry)
        ok = waited >= entry.retry_after * JITTER - SLACK
        failed += not ok
        evidence.append(
            {
                "request": entry.id,
                "status": entry.status,
                "asked": round(entry.retry_after, 3),
                "retry": retry.id,
                "waited": round(waited, 3),
                "honoured": ok,
            }
        )
    if not evidence:
        return Verdict("retry_after", "not seen", "No 429 or 503 asking for a wait was retried.")
    if failed:
        bad = next(e for e in evidence if not e["honoured"])
        return Verdict(
            "retry_after",
            "fail",
            f"Request #{bad['retry']} retried #{bad['request']} ({bad['status']}, retry-after "
            f"{bad['asked']:g} s) after {bad['waited']:.3f} s: "
            f"{failed} of {len(evidence)} retries came too early.",
            evidence,
        )
    return Verdict(
        "retry_after", "pass", f"All {len(evidence)} retries waited as long as they were asked.", evidence
    )


def _broken_after_output(entry: Entry) -> bool:
    """A stream that began (events arrived) and did not end as it should."""
    return (
        entry.status == 200
        and entry.events_sent > 0
        and (entry.left_early or entry.fault is not None or entry.ending not in (None, "close"))
    )


def _retried_after_output(entries: list[Entry]) -> Verdict:
    evidence = []
    for index, entry in enumerate(entries):
        if entry.finished and _broken_after_output(entry):
            retry = _later_same(entries, index)
            if retry is not None:
                evidence.append(
                    {
                        "request": entry.id,
                        "events_arrived": entry.events_sent,
                        "ended": entry.fault or entry.ending or "left",
                        "retry": retry.id,
                        "after": round(retry.time - _end(entry), 3),
                    }
                )
    broken = sum(1 for e in entries if e.finished and _broken_after_output(e))
    if evidence:
        first = evidence[0]
        return Verdict(
            "retried_after_output",
            "fail",
            f"Request #{first['retry']} sent #{first['request']} again after "
            f"{first['events_arrived']} of its "
            f"events had arrived: what the first answer started may run twice.",
            evidence,
        )
    if broken:
        return Verdict("retried_after_output", "pass", f"{broken} broken streams; none was sent again.")
    return Verdict("retried_after_output", "not seen", "No stream broke after output began.")


def _stall_timeout(entries: list[Entry]) -> Verdict:
    evidence = []
    for entry in entries:
        if entry.ending != "stall" and entry.fault != "stall":
            continue
        last = entry.writes[-2] if entry.writes else 0.0  # when the last write went out
        left = entry.left_at if entry.left_early else None
        evidence.append(
            {
                "request": entry.id,
                "left": left is not None,
                "waited": round(left - last, 3) if left is not None else None,
                "open": not entry.finished,
            }
        )
    if not evidence:
        return Verdict("stall_timeout", "not seen", "No stream stalled.")
    stuck = [e for e in evidence if not e["left"]]
    if stuck:
        return Verdict(
            "stall_timeout",
            "fail",
            f"Request #{stuck[0]['request']} stalled and the client never gave up on it.",
            evidence,
        )
    longest = max(float(e["waited"] or 0.0) for e in evidence)
    return Verdict(
        "stall_timeout",
        "pass",
        f"The client left every stalled stream, after {longest:.3f} s at most.",
        evidence,
    )


def _cancel(entries: list[Entry], loop_now: float) -> Verdict:
    closed = [e for e in entries if e.left_early and e.finished]
    held = []
    for entry in entries:
        live = entry.live
        since = getattr(live, "blocked_since", None) if live is not None else None
        if since is not None and loop_now - since >= STUCK:
            held.append(
                {"request": entry.id, "waiting": round(loop_now - since, 3), "events_read": entry.events_sent}
            )
    if held:
        first = held[0]
        return Verdict(
            "cancel",
            "fail",
            f"Request #{first['request']}: the client stopped reading after "
            f"{first['events_read']} events and "
            f"kept the connection open ({first['waiting']:.1f} s so far) instead of closing it.",
            held,
        )
    if closed:
        evidence = [{"request": e.id, "left_after_event": e.left_after_event} for e in closed]
        return Verdict(
            "cancel",
            "pass",
            f"The client closed the connection of each of the {len(closed)} streams it left.",
            evidence,
        )
    return Verdict("cancel", "not seen", "The client did not stop reading a stream early.")


def _tool_echo(entries: list[Entry]) -> Verdict:
    carrying = [e for e in entries if e.tool_results]
    wrong = [e for e in carrying if e.warnings]
    if wrong:
        evidence = [{"request": e.id, "warnings": e.warnings} for e in wrong]
        return Verdict(
            "tool_echo", "fail", f"Request #{wrong[0].id}: {(wrong[0].warnings or [''])[0]}.", evidence
        )
    if carrying:
        evidence = [{"request": e.id, "tool_results": e.tool_results} for e in carrying]
        return Verdict(
            "tool_echo",
            "pass",
            f"{sum(e.tool_results for e in carrying)} tool results came back "
            "with the ids and arguments streamed.",
            evidence,
        )
    return Verdict("tool_echo", "not seen", "No tool results were sent back.")


def _backpressure(entries: list[Entry]) -> Verdict:
    slow = [{"request": e.id, "blocked": round(e.blocked, 3)} for e in entries if e.blocked >= NOTICED]
    if not slow:
        return Verdict(
            "backpressure",
            "not seen",
            "Every write went out at once: the client read as fast as it was sent.",
        )
    worst = max(slow, key=lambda e: e["blocked"])
    state: State = "fail" if worst["blocked"] >= SLOW else "pass"
    return Verdict(
        "backpressure",
        state,
        f"The server waited {worst['blocked']:.3f} s on request #{worst['request']} for the client to read"
        + (": a slow reader." if state == "fail" else "."),
        slow,
    )


def _keepalive(entries: list[Entry]) -> Verdict:
    peers = [e.peer for e in entries if e.peer]
    if len(peers) < 2:
        return Verdict("keepalive", "not seen", "Fewer than two requests: nothing to reuse.")
    opened = len(set(peers))
    evidence = [{"requests": len(peers), "connections": opened}]
    if opened == len(peers):
        return Verdict(
            "keepalive",
            "fail",
            f"Each of the {len(peers)} requests opened a connection of its own.",
            evidence,
        )
    return Verdict("keepalive", "pass", f"{len(peers)} requests over {opened} connections.", evidence)


class Verdicts:
    """The verdicts on a test's (or a session's) requests, with assertions that fail
    with the evidence: `mockserver.verdicts.assert_honoured_retry_after()`."""

    def __init__(self, verdicts: list[Verdict]) -> None:
        self.all = {v.name: v for v in verdicts}

    def __getitem__(self, name: str) -> Verdict:
        return self.all[name]

    def __repr__(self) -> str:
        return "\n".join(f"{v.name}: {v.state} — {v.summary}" for v in self.all.values())

    def _require(self, name: str, allowed: tuple[State, ...], wanted: str) -> None:
        verdict = self.all[name]
        if verdict.state not in allowed:
            evidence = "\n".join(f"  {item}" for item in verdict.evidence)
            raise AssertionError(
                f"mockserver verdict {name} is {verdict.state}: {verdict.summary} ({wanted})"
                + (f"\nevidence:\n{evidence}" if evidence else "")
            )

    def assert_honoured_retry_after(self) -> None:
        """Every retry of a 429/503 that asked for a wait waited that long."""
        self._require("retry_after", ("pass",), "wanted: retries that honour retry-after")

    def assert_no_retry_after_output(self) -> None:
        """No request was sent again after part of its stream had arrived."""
        self._require("retried_after_output", ("pass", "not seen"), "wanted: no repeat once output began")

    def assert_closed_on_cancel(self) -> None:
        """A client that stopped reading closed its connection."""
        self._require("cancel", ("pass",), "wanted: the connection closed when the client stopped reading")

    def assert_tools_echoed(self) -> None:
        """Tool results came back for the calls streamed, with their arguments."""
        self._require("tool_echo", ("pass",), "wanted: tool results for the ids and arguments streamed")
