"""Scenarios in one line each, for `mockserver list` and `GET /_mock/scenarios`."""

from __future__ import annotations

from typing import assert_never

from ..render.errors import status_for
from .model import (
    Comment,
    Content,
    Done,
    Event,
    Fake,
    Finish,
    Raw,
    Response,
    Scenario,
    Step,
    Stop,
    StreamError,
    ToolCall,
    Usage,
    Wait,
)


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


def step_kind(step: Step) -> str:
    """A step's kind, as the scenario language names it."""
    match step:
        case Content():
            return step.channel  # text, reasoning or refusal
        case Fake():
            return "fake"
        case ToolCall():
            return "function_call" if step.legacy else "tool_call"
        case Finish():
            return "finish"
        case Usage():
            return "usage"
        case StreamError():
            return "error"
        case Event():
            return "event"
        case Comment():
            return "comment"
        case Raw():
            return "raw"
        case Wait():
            return "wait"
        case Done():
            return "done"
        case Stop():
            return step.how
        case _:
            assert_never(step)
