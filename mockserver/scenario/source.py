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

# YAML from anyone (the admin API) must not be a bomb: aliases re-use a node, so a
# few hundred bytes can stand for billions. The tree built is capped.
MAX_NODES = 100_000  # values in one document, aliases expanded
MAX_DEPTH = 64  # nesting of mappings and lists
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


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
                _refuse_bombs(node, file)
                documents.append(_Converter(loader, file).convert(node, 0))
        return documents
    except RecursionError:  # PyYAML composes nested nodes recursively
        raise ScenarioError(
            file, 1, "", f"invalid YAML: nested too deeply (at most {MAX_DEPTH} levels)"
        ) from None
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


def _refuse_bombs(root: yaml.Node, file: str) -> None:
    """Refuse a document whose aliases expand past MAX_NODES, or refer to themselves,
    before expanding anything: sizes are counted once per distinct node, so a bomb
    of a few hundred bytes is refused in microseconds."""
    sizes: dict[int, int] = {}
    # an explicit stack (no recursion): (node, its children's sizes are known)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, ready = stack.pop()
        children = _children(node)
        if ready:
            on_path.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), MAX_NODES + 1)
            if sizes[id(node)] > MAX_NODES:
                line = node.start_mark.line + 1
                raise ScenarioError(
                    file, line, "", f"too many values (more than {MAX_NODES}, aliases expanded)"
                )
            continue
        if id(node) in sizes:
            continue
        if id(node) in on_path:
            raise ScenarioError(file, node.start_mark.line + 1, "", "an alias that contains itself")
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Converter:
    """A composed YAML node → our tree: plain values only, counted, never cyclic."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.nodes = 0
        self.open: set[int] = set()  # ids of the collections being converted (a cycle check)

    def error(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(self.file, node.start_mark.line + 1, "", message)

    def convert(self, node: yaml.Node, depth: int) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(node, f"too many values (more than {MAX_NODES}, aliases expanded)")
        if depth > MAX_DEPTH:
            raise self.error(node, f"nested too deeply (at most {MAX_DEPTH} levels)")
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return Scalar(self.plain(node), line)
        if id(node) in self.open:
            raise self.error(node, "an alias that contains itself")
        expected = _MAP_TAG if isinstance(node, yaml.MappingNode) else _SEQ_TAG
        if node.tag != expected:
            raise self.error(node, f"unknown YAML tag {_short(node.tag)!r}: write plain mappings and lists")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, depth, line)
            return Seq(tuple(self.convert(item, depth + 1) for item in node.value), line)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, depth: int, line: int) -> Map:
        self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<: *base)
        items: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, "a key must be a plain name, not a mapping or list")
            key = self.plain(key_node)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                # YAML reads `on:`, `yes:` or `1:` as non-strings; keys are names here.
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in items:
                raise ScenarioError(self.file, key_line, key, "duplicate key (YAML keeps only the last)")
            items[key] = self.convert(value_node, depth + 1)
            key_lines[key] = key_line
        return Map(items, key_lines, line)

    def plain(self, node: yaml.ScalarNode) -> Any:
        """A scalar as a JSON value. YAML's others (a date, !!binary, a custom tag)
        would load here and fail on every request: refused now, with the line."""
        if node.tag not in _PLAIN_TAGS:
            kinds = {
                "tag:yaml.org,2002:timestamp": "a date or time",
                "tag:yaml.org,2002:binary": "binary data",
            }
            if node.tag in kinds:
                raise self.error(node, f"{kinds[node.tag]} is not a JSON value: quote it to make it a string")
            raise self.error(
                node, f"unknown YAML tag {_short(node.tag)!r}: quote the value to make it a string"
            )
        return self.loader.construct_object(node, deep=True)


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


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
