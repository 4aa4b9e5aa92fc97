"""The server's configuration: one frozen value, from keyword arguments, the pytest
fixture, or the command line's flags and MOCKSERVER_* variables.

`Config` holds and checks it; `Options` is the same set of keys as keyword arguments
(`create_app(..., time_scale=0)`, `MockServer(..., seed=7)`), for type checkers. A test
keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict
from urllib.parse import urlsplit

from .errors import MockServerError
from .server.chaos import FAULTS, parse_faults
from .server.journal import DEFAULT_BYTES, DEFAULT_SIZE

MAX_BODY = 32 * 1024 * 1024  # bytes a request body may have; more gets a 413
CLIENT_TIMEOUT = 10.0  # seconds a client has to send a request head, or its body
STORE_SIZE = 1000  # Responses answers kept so previous_response_id can continue them
STALL_AFTER = 30.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    time_scale: float = 1.0  # multiply every delay; 0 plays at once
    seed: int | None = None  # for scenarios without their own
    default: str | None = None  # the scenario for requests no rule matches
    strict: bool = False  # no auto-responder: a miss is a 404 saying why
    admin_token: str | None = None  # `Authorization: Bearer TOKEN` on the admin API
    journal_size: int = DEFAULT_SIZE  # entries the journal keeps
    journal_bytes: int = DEFAULT_BYTES  # about how many bytes it keeps
    chaos: float = 0.0  # the share of requests that get a fault
    chaos_seed: int = 0
    chaos_faults: tuple[str, ...] | list[str] | str = FAULTS  # which faults (or comma-separated)
    chaos_session: str | None = None  # only requests of this X-Mock-Session
    cors: tuple[str, ...] | list[str] | str = ("*",)  # origins that may call the API; () none
    max_body: int = MAX_BODY
    client_timeout: float = CLIENT_TIMEOUT
    store_size: int = STORE_SIZE  # answers kept for previous_response_id
    # recording (`mockserver record`): misses go to `upstream`, answers are written into
    # `record_to` (a folder, or one .yaml file), `redact` patterns replaced
    upstream: str | None = None
    record_to: str | None = None
    redact: tuple[str, ...] | list[str] = ()
    exact: bool = False  # raw events, not steps (replays on the recorded API only)
    stall_after: float = STALL_AFTER  # seconds of upstream silence recorded as a stall

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise MockServerError(f"time_scale must be 0 or more, got {self.time_scale}")
        if self.journal_size < 1 or self.journal_bytes < 1:
            raise MockServerError(
                f"journal_size and journal_bytes must be at least 1, got {self.journal_size}, "
                f"{self.journal_bytes}"
            )
        if not 0 <= self.chaos <= 1:
            raise MockServerError(f"chaos must be a rate from 0 to 1, got {self.chaos}")
        if self.max_body < 1 or self.client_timeout <= 0 or self.store_size < 1 or self.stall_after <= 0:
            raise MockServerError("max_body, client_timeout, store_size and stall_after must be positive")
        if self.upstream is not None:
            _check_upstream(self.upstream)
        object.__setattr__(self, "redact", tuple(self.redact))
        try:
            faults = parse_faults(
                self.chaos_faults if isinstance(self.chaos_faults, str) else list(self.chaos_faults)
            )
        except ValueError as exc:
            raise MockServerError(str(exc)) from None
        object.__setattr__(self, "chaos_faults", faults)  # normalized: a tuple of known names
        origins = self.cors.split(",") if isinstance(self.cors, str) else self.cors
        object.__setattr__(self, "cors", tuple(o.strip() for o in origins if o.strip()))

    @property
    def faults(self) -> tuple[str, ...]:
        return tuple(self.chaos_faults)  # a tuple once checked

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(self.cors)  # a tuple once checked

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def updated(self, **options: Any) -> Config:
        """This configuration with `options` (keyword arguments of `Options`) changed."""
        unknown = sorted(set(options) - set(self.names()))
        if unknown:
            raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(self.names())}")
        return replace(self, **options) if options else self


def _check_upstream(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MockServerError(f"upstream must be an http:// or https:// URL, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise MockServerError(
            "upstream must not hold a user or password: the client's own auth headers are passed on"
        )


class Options(TypedDict, total=False):
    """Config's keys as keyword arguments (see Config for each)."""

    time_scale: float
    seed: int | None
    default: str | None
    strict: bool
    admin_token: str | None
    journal_size: int
    journal_bytes: int
    chaos: float
    chaos_seed: int
    chaos_faults: tuple[str, ...] | list[str] | str
    chaos_session: str | None
    cors: tuple[str, ...] | list[str] | str
    max_body: int
    client_timeout: float
    store_size: int
    upstream: str | None
    record_to: str | None
    redact: tuple[str, ...] | list[str]
    exact: bool
    stall_after: float
