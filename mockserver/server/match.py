"""Whether a scenario's `match` rule accepts a request (SPEC §4)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ..render.request import ApiRequest
from ..scenario.model import BodyRule, Match

_MISSING = object()


def matches(rule: Match, request: ApiRequest) -> bool:
    if rule.method is not None and request.method.upper() != rule.method:
        return False
    if rule.path is not None and not fnmatchcase(request.path, rule.path):
        return False
    for name, pattern in rule.headers:
        value = request.headers.get(name)
        if value is None or not fnmatchcase(value, pattern):
            return False
    if rule.model is not None and not fnmatchcase(request.model, rule.model):
        return False
    if rule.text is not None and not rule.text.search(request.last_message):
        return False
    if rule.tools is not None and request.tool(rule.tools) is None:
        return False
    if rule.stream is not None and request.stream != rule.stream:
        return False
    return all(_body_holds(rule_, request.json) for rule_ in rule.body)


def _lookup(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if isinstance(document, dict) and key in document:
            document = document[key]
        elif (
            isinstance(document, list)
            and key.lstrip("-").isdigit()
            and -len(document) <= int(key) < len(document)
        ):
            document = document[int(key)]
        else:
            return _MISSING
    return document


def _body_holds(rule: BodyRule, body: Any) -> bool:
    value = _lookup(body, rule.path)
    if value is _MISSING:
        return False
    if rule.how == "regex":
        assert rule.regex is not None
        return isinstance(value, str) and rule.regex.search(value)
    if rule.how == "contains":
        if isinstance(value, str):
            return isinstance(rule.contains, str) and rule.contains in value
        if isinstance(value, list):
            return rule.contains in value
        if isinstance(value, dict) and isinstance(rule.contains, dict):
            return all(value.get(k, _MISSING) == v for k, v in rule.contains.items())
        return False
    if isinstance(value, bool) or isinstance(rule.equals, bool):
        return type(value) is type(rule.equals) and value == rule.equals  # true is not 1
    return bool(value == rule.equals)
