"""Plans as people read them, for `mockserver show`: each write with its time offset."""

from __future__ import annotations

from collections.abc import Callable

from .render.plan import Plan


def format_plan(plan: Plan, title: str, readable: Callable[[bytes], str] | None = None) -> str:
    """Every write with its time offset; the bytes shown as sent (CR shown as \\r), or
    as `readable` decodes them (an API with binary framing)."""
    kind = "stream" if plan.streaming else "body"
    lines = [f"── {title} · {kind} · status {plan.status or 'none'}"]
    if plan.headers_delay:
        lines.append(f"   headers after {plan.headers_delay:.3f}s")
    lines += [f"   {name}: {value}" for name, value in plan.headers]
    for write in plan.writes:
        decoded = readable(write.data) if readable is not None else write.data.decode("utf-8", "replace")
        text = decoded.replace("\r", "\\r")
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
