"""The regular expressions of `match` rules, run by RE2.

A request's text is the attacker's choice; with a backtracking engine a pattern
like `^(a+)+$` takes time doubling with every character. RE2 runs in time linear
in the input whatever the pattern, and refuses at load what it cannot run that way
(lookaround, backreferences): those scenarios fail validation with file and line.
"""

from __future__ import annotations

from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no types

_MAX_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, with file and line
    options.max_mem = _MAX_MEMORY
    return options


_OPTIONS = _options()


class Pattern:
    """A compiled match pattern. Raises ValueError for one RE2 cannot take."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._compiled = re2.compile(pattern, options=_OPTIONS)
        except re2.error as exc:
            reason = (
                exc.args[0].decode("utf-8", "replace")
                if exc.args and isinstance(exc.args[0], bytes)
                else str(exc)
            )
            raise ValueError(reason) from None

    def search(self, text: str) -> bool:
        """Whether the pattern occurs anywhere in `text`."""
        try:
            return self._compiled.search(text) is not None
        except UnicodeEncodeError:  # a lone surrogate (from JSON's \\udc80) has no UTF-8
            return self._compiled.search(text.encode("utf-8", "replace").decode("utf-8")) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"
