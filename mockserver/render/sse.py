"""Server-Sent-Events framing (the WHATWG event-stream format).

Rules we keep: one compact JSON object per `data:` line,
non-ASCII escaped, a blank line after every event, no BOM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the SSE line ends, and only those


_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))  # made once: json.dumps
# with non-default separators would build a new encoder on every call


class RawJson:
    """A body already spelled as JSON (ASCII), sent as it is: for replies so large
    that encoding them again, or even joining their pieces, would hold the
    interpreter (and every stream) for a noticeable time. Grown piece by piece."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = bytearray()


def to_json(value: Any) -> str:
    """Compact JSON with non-ASCII escaped: no client's line splitter can break it."""
    return _ENCODER.encode(value)


# A string as a JSON string literal, non-ASCII escaped (the C encoder json uses).
json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def event(
    data: str | None,
    *,
    name: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    line_ending: str = "\n",
) -> bytes:
    """One event. Multi-line data becomes several `data:` lines, as the spec joins them."""
    lines = []
    if name is not None:
        lines.append(f"event: {name}")
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    if data is not None:
        lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    return (line_ending.join(lines) + line_ending + line_ending).encode("utf-8")


def data(payload: Any, line_ending: str = "\n") -> bytes:
    """`data: {json}` and the blank line: the common case, kept short."""
    return f"data: {to_json(payload)}{line_ending}{line_ending}".encode("ascii")


def comment(text: str, line_ending: str = "\n") -> bytes:
    return f": {text}{line_ending}{line_ending}".encode()


def named(name: str, payload_json: str, line_ending: str = "\n") -> bytes:
    """`event: NAME` and one `data:` line of JSON (which, escaped, has no line break)."""
    return f"event: {name}{line_ending}data: {payload_json}{line_ending}{line_ending}".encode("ascii")
