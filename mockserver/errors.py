"""The errors mockserver raises. Everything derives from MockServerError."""

from __future__ import annotations

from collections.abc import Sequence


class MockServerError(Exception):
    """Base of every error mockserver raises on purpose."""


class ScenarioError(MockServerError):
    """One problem in a scenario file: where it is, and what is wrong."""

    def __init__(self, file: str, line: int | None, path: str, message: str) -> None:
        self.file = file
        self.line = line
        self.path = path
        self.message = message
        super().__init__(self.format())

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioErrors(MockServerError):
    """Every problem found while loading one or more scenario files."""

    def __init__(self, errors: Sequence[ScenarioError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(e.format() for e in self.errors))


class ScenarioNotFound(MockServerError):
    """A scenario was asked for by name and no loaded scenario has that name."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(known)
        listing = ", ".join(self.known) if self.known else "none"
        super().__init__(f"no scenario named {name!r}; loaded scenarios: {listing}")
