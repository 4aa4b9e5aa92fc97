"""Cutting a string into the deltas a `split:` or `pieces:` asks for."""

from __future__ import annotations

import re

from ..scenario.model import Split

_WORD = re.compile(r"\s*\S+")


def cut(text: str, split: Split | None) -> list[str]:
    """The pieces of `text`; they always join back to `text` exactly."""
    if not text:
        return [text]
    if split is None:
        return [text]
    if split.kind == "words":
        # Each word keeps the space before it, as model tokens do; trailing
        # whitespace rides on the last word.
        pieces = _WORD.findall(text)
        consumed = sum(len(p) for p in pieces)
        if not pieces:
            return [text]
        if consumed < len(text):
            pieces[-1] += text[consumed:]
        return pieces
    if split.kind == "chars":
        return list(text)
    if split.kind == "size":
        return [text[i : i + split.size] for i in range(0, len(text), split.size)]
    if split.kind == "pieces":
        return _pieces(text, split.size)
    if split.kind == "lengths":
        return _lengths(text, split.lengths)
    if "".join(split.fragments) == text:
        return list(split.fragments)
    # Fragments written for other text (a template changed it): keep their count.
    return _pieces(text, len(split.fragments))


def _pieces(text: str, count: int) -> list[str]:
    count = max(1, min(count, len(text)))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def _lengths(text: str, lengths: tuple[int, ...]) -> list[str]:
    pieces, start = [], 0
    for length in lengths:
        if start >= len(text):
            break
        pieces.append(text[start : start + length])
        start += length
    if start < len(text):
        pieces.append(text[start:])
    return pieces
