"""Reading typed values out of a node tree, with key paths and did-you-mean errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from ..errors import ScenarioError
from .source import Map, Node, Scalar, Seq


@dataclass(frozen=True, slots=True)
class At:
    """A node and where it is: file, key path and line. Every reader takes one."""

    node: Node
    file: str
    path: str
    line: int

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(self.file, self.line, self.path, message)

    def key(self, name: str) -> At | None:
        """The value under `name` of this mapping, or None if absent."""
        assert isinstance(self.node, Map)
        if name not in self.node.items:
            return None
        value = self.node.items[name]
        return At(value, self.file, join(self.path, name), self.node.key_lines[name])

    def items(self) -> Iterator[At]:
        """The elements of this sequence."""
        assert isinstance(self.node, Seq)
        for i, item in enumerate(self.node.items):
            yield At(item, self.file, f"{self.path}[{i}]", item.line)

    def entries(self) -> Iterator[tuple[str, At]]:
        """The (key, value) pairs of this mapping."""
        assert isinstance(self.node, Map)
        for name in self.node.items:
            found = self.key(name)
            assert found is not None
            yield name, found


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def kind_of(node: Node) -> str:
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def mapping(at: At, allowed: Collection[str], what: str = "") -> At:
    """Check that `at` is a mapping whose keys are all in `allowed`."""
    problems = unknown_keys(at, allowed, what)
    if problems:
        raise problems[0]
    return at


def unknown_keys(at: At, allowed: Collection[str], what: str = "") -> list[ScenarioError]:
    """One error per key of `at` not in `allowed` (or one if `at` is no mapping)."""
    if not isinstance(at.node, Map):
        return [at.error(f"expected {what or 'a mapping'}, got {kind_of(at.node)}")]
    problems = []
    known = ", ".join(sorted(allowed))
    for name, child in at.entries():
        if name not in allowed:
            problems.append(
                child.error(f"unknown key {name!r}{suggest(name, allowed)}; expected one of: {known}")
            )
    return problems


def sequence(at: At, what: str = "a list") -> At:
    if not isinstance(at.node, Seq):
        raise at.error(f"expected {what}, got {kind_of(at.node)}")
    return at


def scalar(at: At) -> object:
    if not isinstance(at.node, Scalar):
        raise at.error(f"expected a single value, got {kind_of(at.node)}")
    return at.node.value


def string(at: At, *, allow_numbers: bool = False) -> str:
    value = scalar(at)
    if isinstance(value, str):
        return value
    if allow_numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise at.error(f"expected a string, got {kind_of(at.node)}")


def integer(at: At, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = scalar(at)
    if isinstance(value, bool) or not isinstance(value, int):
        raise at.error(f"expected a whole number, got {kind_of(at.node)}")
    if minimum is not None and value < minimum:
        raise at.error(f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise at.error(f"must be at most {maximum}, got {value}")
    return value


def boolean(at: At) -> bool:
    value = scalar(at)
    if not isinstance(value, bool):
        raise at.error(f"expected true or false, got {kind_of(at.node)}")
    return value


def choice(at: At, choices: Collection[str]) -> str:
    value = string(at)
    if value not in choices:
        raise at.error(f"{value!r} is not one of: {', '.join(choices)}{suggest(value, choices)}")
    return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def duration(at: At) -> float:
    """`250ms`, `1.5s`, `2m` or a plain number of seconds → seconds."""
    value = scalar(at)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise at.error(f"a duration cannot be negative, got {value}")
        return float(value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    raise at.error(f"expected a duration such as 250ms, 1.5s or a number of seconds, got {value!r}")
