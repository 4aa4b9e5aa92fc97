"""Human-readable views of scenarios and plans, for `mockserver show` and `list`."""

from __future__ import annotations

from .render.errors import status_for
from .render.plan import Plan
from .scenario.model import Response, Scenario


def format_plan(plan: Plan, title: str) -> str:
    """Every write with its time offset; the bytes shown as sent (CR shown as \\r)."""
    kind = "stream" if plan.streaming else "body"
    lines = [f"── {title} · {kind} · status {plan.status or 'none'}"]
    if plan.headers_delay:
        lines.append(f"   headers after {plan.headers_delay:.3f}s")
    lines += [f"   {name}: {value}" for name, value in plan.headers]
    for write in plan.writes:
        text = write.data.decode("utf-8", "replace").replace("\r", "\\r")
        body_lines = text.split("\n")
        if body_lines and body_lines[-1] == "":
            body_lines.pop()
        stamp = f"{write.at:8.3f}s  "
        for i, line in enumerate(body_lines or [""]):
            lines.append((stamp if i == 0 else " " * len(stamp)) + line)
    lines.append(f"{plan.ending_at:8.3f}s  [{_ending(plan)}]")
    return "\n".join(lines) + "\n\n"


def _ending(plan: Plan) -> str:
    if plan.ending == "close":
        return "end of body" if plan.streaming else "response sent"
    if plan.ending == "stall":
        held = "until the client leaves" if plan.hold is None else f"for {plan.hold:g}s"
        return f"stall: nothing more, connection held {held}, then dropped"
    if plan.ending == "reset":
        return "reset: TCP RST"
    return "disconnect: connection closed mid-body"


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
