"""Chaos: with probability `rate`, a request suffers one fault, chosen
and placed by a seeded random source, so the same seed and the same order of
requests inject the same faults. A fault is a change to the request's Plan
before it is played; every one is named in an `x-mock-fault` header where a
response is still sent, in the journal, and in the log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from ..render import Api, ApiRequest, Plan
from ..render.errors import ApiError, resolve, status_for
from ..render.plan import Cut, Ending
from ..render.respond import plan_error

FAULTS = ("429", "500", "503", "disconnect", "reset", "stall", "slow", "malformed", "error-event")
# Faults a response with no stream to break can still suffer.
WHOLE_RESPONSE = ("429", "500", "503", "disconnect", "reset", "stall", "slow", "malformed")
SLOW_START = 1.5  # seconds of extra wait before a slowed response
SLOW_FACTOR = 4.0  # and every later delay stretched this much


@dataclass
class ChaosSettings:
    rate: float = 0.0
    seed: int = 0
    faults: tuple[str, ...] = FAULTS
    session: str | None = None  # only requests with this X-Mock-Session, when set

    def to_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed, "faults": list(self.faults), "session": self.session}


def parse_faults(text: str | list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    """`429,disconnect` (or a list) → the fault names; unknown names are a ValueError."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else [str(n) for n in text]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in FAULTS]
    if unknown or not names:
        raise ValueError(
            f"unknown chaos fault(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(FAULTS)}"
        )
    return tuple(dict.fromkeys(names))


@dataclass
class Chaos:
    settings: ChaosSettings = field(default_factory=ChaosSettings)
    counter: int = 0  # requests considered since the settings last changed
    injected: dict[str, int] = field(default_factory=dict)
    # the one-shot fault the next request gets, whatever the rate (the console's
    # "next request gets FAULT", `POST /_mock/chaos/next`)
    next_fault: str | None = None

    def configure(self, settings: ChaosSettings) -> None:
        self.settings = settings
        self.counter = 0

    def pick(self, session: str | None, streaming: bool) -> tuple[str, random.Random] | None:
        """The fault for the next request, if it gets one, with the random source
        that places it."""
        if self.next_fault is not None and (streaming or self.next_fault in WHOLE_RESPONSE):
            fault, self.next_fault = self.next_fault, None
            self.injected[fault] = self.injected.get(fault, 0) + 1
            return fault, random.Random(f"chaos/next/{self.settings.seed}/{self.counter}")
        settings = self.settings
        if settings.rate <= 0 or (settings.session is not None and session != settings.session):
            return None
        rng = random.Random(f"chaos/{settings.seed}/{self.counter}")
        self.counter += 1
        if rng.random() >= settings.rate:
            return None
        faults = [f for f in settings.faults if streaming or f in WHOLE_RESPONSE]
        if not faults:
            return None
        fault = rng.choice(faults)
        self.injected[fault] = self.injected.get(fault, 0) + 1
        return fault, rng


def apply(fault: str, rng: random.Random, plan: Plan, api: Api, request: ApiRequest) -> Plan:
    """The plan with `fault` injected at a random point where it applies."""
    if fault in ("429", "500", "503"):
        status = int(fault)
        error = resolve(None, status, request)
        error = ApiError(status, f"{error.message} (mockserver chaos)", error.type, error.code, None)
        headers = {"retry-after": "1"} if status == 429 else {}
        # ids drawn from the chaos source: the same chaos seed, the same bytes
        seed_text = f"chaos/{rng.getrandbits(64)}"
        return _named(plan_error(api, error, request, seed_text), fault, headers)
    if fault == "slow":
        cuts = tuple(Cut(SLOW_START + c.at * SLOW_FACTOR, c.end, c.events) for c in plan.cuts)
        return _named(replace(plan, cuts=cuts, ending_at=SLOW_START + plan.ending_at * SLOW_FACTOR), fault)
    if not plan.streaming:
        if fault == "malformed":  # half a JSON body
            half = len(plan.body) // 2
            first = plan.cuts[0] if plan.cuts else Cut(0.0, 0, 1)
            return _named(
                replace(plan, body=plan.body[:half], cuts=(Cut(first.at, half, first.events),)), fault
            )
        return replace(plan, status=0, headers=(), body=b"", cuts=(), ending=_ENDINGS[fault])
    k = rng.randint(0, len(plan.cuts))  # how many of the stream's writes go out first
    kept, rest = plan.cuts[:k], plan.cuts[k:]
    end = kept[-1].end if kept else 0
    at = kept[-1].at if kept else 0.0
    if fault == "malformed":  # a broken event slipped in; the stream goes on
        extra = api.malformed
        body = plan.body[:end] + extra + plan.body[end:]
        cuts = (*kept, Cut(at, end + len(extra), 1), *(Cut(c.at, c.end + len(extra), c.events) for c in rest))
        return _named(replace(plan, body=body, cuts=cuts), fault)
    if fault == "error-event":  # the API's in-band error, then the stream ends
        extra = _error_event(api, request)
        body = plan.body[:end] + extra
        cuts = (*kept, Cut(at, len(body), 1))
        return _named(replace(plan, body=body, cuts=cuts, ending="close", ending_at=at), fault)
    cut = replace(plan, body=plan.body[:end], cuts=kept, ending=_ENDINGS[fault], ending_at=at, hold=None)
    return _named(cut, fault)


_ENDINGS: dict[str, Ending] = {"disconnect": "disconnect", "reset": "reset", "stall": "stall"}


def _named(plan: Plan, fault: str, extra: dict[str, str] | None = None) -> Plan:
    headers = dict(plan.headers)
    headers.update(extra or {})
    headers["x-mock-fault"] = fault
    return replace(plan, headers=tuple(headers.items()))


def _error_event(api: Api, request: ApiRequest) -> bytes:
    error = resolve(None, status_for(None, 500), request)
    error = ApiError(
        500,
        "The server had an error while processing your request. (mockserver chaos)",
        error.type,
        None,
        None,
    )
    return api.error_event(error, "\n")
