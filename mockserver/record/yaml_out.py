"""Writing recorded values as YAML a person can read: each step on one line, in flow
style, strings double-quoted with JSON's escapes (which YAML's double quotes share),
so nothing a model writes can break out of its line."""

from __future__ import annotations

import json
import re
from typing import Any

# Characters YAML does not allow raw, or reads as line breaks (NEL, LS, PS), in a
# double-quoted string: written as escapes.
_NOT_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_YAML_WORDS = frozenset(
    {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}
)  # not strings in YAML 1.1


def quote(text: str) -> str:
    """`text` as a YAML double-quoted scalar."""
    encoded = json.dumps(text, ensure_ascii=False)
    return _NOT_RAW.sub(lambda found: f"\\u{ord(found.group()):04x}", encoded)


def flow(value: Any) -> str:
    """`value` (JSON-like) as one line of YAML flow style."""
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_key(key)}: {flow(item)}" for key, item in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key not in _YAML_WORDS else quote(key)


def seconds(value: float) -> float:
    """A duration as written: to the millisecond."""
    return round(value, 3)
