"""YAML text → a tree of values that remember their line, loaded safely.

The parser reports every problem as FILE:LINE: key.path, so it needs the line of
each key and value; plain `yaml.safe_load` forgets them. We compose the node tree
with the safe loader and build our own small tree from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import ScenarioError


@dataclass(frozen=True, slots=True)
class Scalar:
    value: Any  # str, int, float, bool, None (or a date: YAML's own timestamp type)
    line: int


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Map:
    items: dict[str, Node]
    key_lines: dict[str, int]
    line: int


Node = Scalar | Seq | Map


def parse_documents(text: str, file: str) -> list[Node]:
    """Every YAML document in `text` as a Node tree. Raises ScenarioError on bad YAML."""
    try:
        loader = yaml.SafeLoader(text)  # reads the text: unprintable characters fail here
    except yaml.YAMLError as exc:
        raise ScenarioError(file, 1, "", f"invalid YAML: {exc}") from None
    try:
        documents: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                documents.append(_convert(node, loader, file))
        return documents
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise ScenarioError(file, line, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(file, 1, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _convert(node: yaml.Node, loader: yaml.SafeLoader, file: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<: *base)
        items: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                # YAML reads `on:`, `yes:` or `1:` as non-strings; keys are names here.
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in items:
                raise ScenarioError(file, key_line, key, "duplicate key (YAML keeps only the last)")
            items[key] = _convert(value_node, loader, file)
            key_lines[key] = key_line
        return Map(items, key_lines, line)
    if isinstance(node, yaml.SequenceNode):
        return Seq(tuple(_convert(item, loader, file) for item in node.value), line)
    return Scalar(loader.construct_object(node, deep=True), line)


def to_plain(node: Node) -> Any:
    """The plain Python value of a node (for JSON-like payloads such as bodies)."""
    if isinstance(node, Map):
        return {key: to_plain(value) for key, value in node.items.items()}
    if isinstance(node, Seq):
        return [to_plain(item) for item in node.items]
    return node.value


def from_plain(value: Any, line: int) -> Node:
    """Wrap a plain value (from JSON or a Python mapping) as nodes, all on one line."""
    if isinstance(value, dict):
        items = {str(k): from_plain(v, line) for k, v in value.items()}
        return Map(items, {k: line for k in items}, line)
    if isinstance(value, (list, tuple)):
        return Seq(tuple(from_plain(v, line) for v in value), line)
    return Scalar(value, line)
