"""Scenarios in one line each, for `mockserver list` and `GET /_mock/scenarios`."""

from __future__ import annotations

from ..render.errors import status_for
from .model import Response, Scenario


def describe_match(scenario: Scenario) -> str:
    rule = scenario.match
    if rule is None:
        return "(by name only)"
    parts = []
    for key in ("method", "path", "model", "tools"):
        value = getattr(rule, key)
        if value is not None:
            parts.append(f"{key}={value}")
    if rule.text is not None:
        parts.append(f"text=/{rule.text.pattern}/")
    if rule.stream is not None:
        parts.append(f"stream={str(rule.stream).lower()}")
    parts += [f"header {name}={glob}" for name, glob in rule.headers]
    parts += [f"body {'.'.join(r.path)}" for r in rule.body]
    if rule.priority:
        parts.append(f"priority={rule.priority}")
    return " ".join(parts) or "(matches every request)"


def describe_responses(scenario: Scenario) -> str:
    described = ", ".join(_response(r) for r in scenario.responses)
    if len(scenario.responses) > 1:
        described += ", then cycle" if scenario.cycle else ", then the last repeats"
    return described


def _response(response: Response) -> str:
    if response.error is not None or ((response.status or 200) >= 400 and response.body is None):
        return f"{status_for(response.error, response.status)} error"
    if response.body is not None:
        return f"{response.status or 200} body"
    count = len(response.stream)
    return f"stream of {count} step{'s' if count != 1 else ''}"
