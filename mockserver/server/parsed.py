"""Requests parsed once.

A client under load sends the same request again and again (a load test of a
gateway, a retry loop, a test suite's fixture), and parsing it (the JSON, then the
API's own checks) is about a fifth of what a request costs the server. Parsing is
pure: it reads only the API, method, path, query, headers and body bytes, so those
are the key, and a hit is exactly what parsing again would give. Only what parsed
cleanly is kept (a refusal is parsed again, and says so again); history the server
stores (Responses' `previous_response_id`) is joined after, on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..render import ApiRequest
from .recent import Recent

MAX_PARSED = 128  # requests kept
MAX_PARSED_BODY = 8 * 1024  # a larger body is parsed every time (an agent's long turns rarely repeat)

ParseKey = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    request: ApiRequest  # as the API parsed it, before stored history is joined
    body: Any  # the body's JSON (the journal shows it)
    fingerprint: str  # the journal's hash of method, path and body


def parse_key(
    api: str, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], data: bytes
) -> ParseKey:
    """What a parse reads of a request."""
    return (api, method, path, tuple(query.items()), tuple(headers.items()), data)


class ParsedCache:
    """The last MAX_PARSED requests parsed, bodies up to MAX_PARSED_BODY."""

    def __init__(self, size: int = MAX_PARSED) -> None:
        self._parsed: Recent[ParseKey, Parsed] = Recent(size)

    def get(self, key: ParseKey) -> Parsed | None:
        return self._parsed.get(key)

    def put(self, key: ParseKey, parsed: Parsed) -> None:
        if len(key[-1]) <= MAX_PARSED_BODY:
            self._parsed.put(key, parsed)

    def __len__(self) -> int:
        return len(self._parsed)

    def clear(self) -> None:
        self._parsed.clear()
