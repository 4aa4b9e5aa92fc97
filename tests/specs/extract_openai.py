"""Cut OpenAI's published OpenAPI document down to the schemas our output is
validated against (tests/test_openai_schema.py), so the suite needs no copy of the
3 MB whole. Descriptions and vendor keys are dropped; nothing else is changed.

    python tests/specs/extract_openai.py PATH/TO/openai-openapi.json > tests/specs/openai-schemas.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

ROOTS = (
    "CreateChatCompletionStreamResponse",
    "CreateChatCompletionResponse",
    "CreateCompletionResponse",
    "ResponseStreamEvent",
    "Response",
)
DROPPED = ("description", "title", "example", "examples")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _trimmed(node: Any, names: bool = False) -> Any:
    """`node` without prose and vendor keys; `names`: its keys are property names."""
    if isinstance(node, dict):
        return {
            k: _trimmed(v, names=k == "properties" and not names)
            for k, v in node.items()
            if names or not (k.startswith("x-") or k in DROPPED)
        }
    if isinstance(node, list):
        return [_trimmed(v) for v in node]
    return node


def main(path: str) -> None:
    document = json.load(open(path, encoding="utf-8"))
    schemas = document["components"]["schemas"]
    kept: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in kept:
            kept.add(name)
            todo.extend(_refs(schemas[name]))
    out = {
        "info": {"source": "OpenAI OpenAPI document", "version": document["info"]["version"]},
        "components": {"schemas": {name: _trimmed(schemas[name]) for name in sorted(kept)}},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
