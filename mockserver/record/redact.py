"""`--redact REGEX`: text matching any pattern is written as `[redacted]`, in bodies,
steps and the generated match. Patterns run on RE2, like every pattern of ours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no types

from ..errors import MockServerError

REDACTED = "[redacted]"


class _Piece(Protocol):
    key: tuple[str, int]
    text: str


class Redactor:
    def __init__(self, patterns: Sequence[str]) -> None:
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re2.compile(pattern))
            except re2.error as exc:
                raise MockServerError(
                    f"--redact {pattern!r} is not a regular expression RE2 takes: {exc}"
                ) from None
        self.patterns: list[Any] = compiled

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where `text` matches, merged, in order."""
        found = sorted(
            (m.start(), m.end()) for p in self.patterns for m in p.finditer(text) if m.end() > m.start()
        )
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def text(self, text: str) -> str:
        out, position = [], 0
        for start, end in self.spans(text):
            out += [text[position:start], REDACTED]
            position = end
        return "".join(out) + text[position:] if out else text

    def pieces(self, pieces: Iterable[_Piece]) -> None:
        """Redact across pieces of the same kind: a match cut over several is found;
        its first piece gets `[redacted]`, what the match had of the others goes."""
        by_key: dict[tuple[str, int], list[_Piece]] = {}
        for piece in pieces:
            by_key.setdefault(piece.key, []).append(piece)
        for group in by_key.values():
            joined = "".join(p.text for p in group)
            spans = self.spans(joined)
            if not spans:
                continue
            offset = 0
            for piece in group:
                begin, end = offset, offset + len(piece.text)
                offset = end
                kept, position = [], begin
                for start, stop in spans:
                    if stop <= begin or start >= end:
                        continue
                    kept.append(joined[position : max(start, begin)])
                    if start >= begin:
                        kept.append(REDACTED)
                    position = min(stop, end)
                kept.append(joined[position:end])
                piece.text = "".join(kept)

    def pattern(self, text: str) -> str:
        """An anchored RE2 pattern for `text`, its redacted parts matching anything."""
        out, position = [], 0
        for start, end in self.spans(text):
            out += [escape(text[position:start]), "(?s:.*)"]
            position = end
        return "".join(out) + escape(text[position:])


_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def escape(text: str) -> str:
    """`text` as an RE2 pattern matching exactly it (what RE2 needs escaped, and
    line breaks and tabs spelled out)."""
    out = []
    for char in text:
        if char in _SPECIAL:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(char)
    return "".join(out)
