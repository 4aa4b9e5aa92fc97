"""Whether a scenario's `match` rule accepts a request."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ..render.request import ApiRequest, ToolOutput
from ..scenario.model import BodyRule, Match, ToolResultRule

_MISSING = object()


def matches(rule: Match, request: ApiRequest) -> bool:
    return mismatch(rule, request) is None


def mismatch(rule: Match, request: ApiRequest) -> str | None:
    """Why `rule` does not accept `request`: its first failing key, said plainly
    (strict mode's explanation of a miss); None when it accepts it."""
    if rule.method is not None and request.method.upper() != rule.method:
        return f"method {request.method.upper()} is not {rule.method}"
    if rule.path is not None and not fnmatchcase(request.path, rule.path):
        return f"path {request.path!r} does not match {rule.path!r}"
    for name, pattern in rule.headers:
        value = request.headers.get(name)
        if value is None:
            return f"header {name!r} not sent (wanted {pattern!r})"
        if not fnmatchcase(value, pattern):
            return f"header {name!r} is {_short(value)!r}, which does not match {pattern!r}"
    if rule.model is not None and not fnmatchcase(request.model, rule.model):
        return f"model {request.model!r} does not match {rule.model!r}"
    if rule.text is not None and not rule.text.search(request.last_message):
        return f"text {rule.text.pattern!r} not found in last user message {_short(request.last_message)!r}"
    if rule.tools is not None and request.tool(rule.tools) is None:
        offered = ", ".join(t.name for t in request.tools) or "none"
        return f"tools: no tool named {rule.tools!r} offered (offered: {offered})"
    if rule.stream is not None and request.stream != rule.stream:
        return f"stream is {str(request.stream).lower()}, the rule wants {str(rule.stream).lower()}"
    conversation = request.conversation
    if rule.turn is not None and conversation.turn != rule.turn:
        return f"turn is {conversation.turn}, the rule wants {rule.turn}"
    if rule.system is not None and not rule.system.search(conversation.system):
        return f"system {rule.system.pattern!r} not found in system prompt {_short(conversation.system)!r}"
    if rule.first_message is not None and not rule.first_message.search(conversation.first_message):
        return (
            f"first_message {_short(rule.first_message.pattern)!r} does not match "
            f"the first user message {_short(conversation.first_message)!r}"
        )
    if rule.tool_result is not None:
        why = _tool_result_mismatch(rule.tool_result, conversation.tool_results)
        if why is not None:
            return why
    for body_rule in rule.body:
        why = _body_mismatch(body_rule, request.json)
        if why is not None:
            return why
    return None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def _body_mismatch(rule: BodyRule, body: Any) -> str | None:
    where = "body." + ".".join(rule.path)
    value = _lookup(body, rule.path)
    if value is _MISSING:
        return f"{where} is not in the request"
    if rule.how == "regex":
        assert rule.regex is not None
        if isinstance(value, str) and rule.regex.search(value):
            return None
        return f"{where}: {rule.regex.pattern!r} not found in {_short(repr(value))}"
    if rule.how == "contains":
        if _contains(value, rule.contains):
            return None
        return f"{where} does not contain {_short(repr(rule.contains))} (it is {_short(repr(value))})"
    if isinstance(value, bool) or isinstance(rule.equals, bool):
        equal = type(value) is type(rule.equals) and value == rule.equals  # true is not 1
    else:
        equal = bool(value == rule.equals)
    return None if equal else f"{where} is {_short(repr(value))}, not {_short(repr(rule.equals))}"


def _contains(value: Any, wanted: Any) -> bool:
    if isinstance(value, str):
        return isinstance(wanted, str) and wanted in value
    if isinstance(value, list):
        return wanted in value
    if isinstance(value, dict) and isinstance(wanted, dict):
        return all(value.get(k, _MISSING) == v for k, v in wanted.items())
    return False


def _tool_result_mismatch(rule: ToolResultRule, results: tuple[ToolOutput, ...]) -> str | None:
    """Why no tool result in the request satisfies `rule` (None if one does)."""
    for result in results:
        if rule.name is not None and result.name != rule.name:
            continue
        if rule.id is not None and result.id != rule.id:
            continue
        if rule.contains is not None and rule.contains not in result.content:
            continue
        if rule.regex is not None and not rule.regex.search(result.content):
            continue
        return None
    wanted = ", ".join(
        f"{key} {value!r}"
        for key, value in (
            ("name", rule.name),
            ("id", rule.id),
            ("contains", rule.contains),
            ("regex", rule.regex.pattern if rule.regex else None),
        )
        if value is not None
    )
    had = "; ".join(f"{r.name or '?'} ({r.id or 'no id'}): {_short(r.content, 40)!r}" for r in results)
    return f"tool_result: none with {wanted or 'anything'} (the request had {had or 'no tool results'})"
