"""Plans as people read them, for `mockserver show`: each write with its time offset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .errors import MockServerError
from .render import Api, BadRequest, plan_response
from .render.api import sample, skipped_steps
from .render.plan import Plan
from .scenario import Scenario


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


def plans(
    scenario: Scenario,
    api: Api,
    *,
    response: int | None = None,
    turn: int | None = None,
    stream: bool = True,
    model: str = "gpt-4o-mini",
    message: str = "Hello!",
    seed: int | None = None,
) -> Iterator[Plan]:
    """The plans `scenario` answers `api`'s sample request with: every response, or
    response N (1-based), or a conversation's turn K. Raises MockServerError."""
    try:
        request = sample(api, model, message, stream=stream)
    except BadRequest as exc:  # pragma: no cover - our own sample request
        raise MockServerError(exc.message) from None
    for number in _numbers(scenario, response, turn):
        if turn is not None:
            request = replace(request, conversation=replace(request.conversation, turn=turn))
        yield plan_response(
            api,
            scenario.response_for(number),
            request,
            scenario=scenario.name,
            number=number,
            seed=scenario.seed if scenario.seed is not None else seed,
        )


def _numbers(scenario: Scenario, response: int | None, turn: int | None) -> range:
    numbers = range(len(scenario.responses))
    if turn is not None:
        if not scenario.conversation:
            raise MockServerError(
                f"{scenario.name} has no conversation: --turn applies to conversation scenarios"
            )
        if turn < 1:
            raise MockServerError("--turn counts from 1")
        numbers = scenario.turn_indices(turn)
    if response is not None:
        if not 1 <= response <= len(scenario.responses):
            raise MockServerError(f"{scenario.name} has {len(scenario.responses)} responses")
        numbers = range(response - 1, response)
    return numbers


def show_text(scenario: Scenario, api: Api, **options: Any) -> str:
    """What `mockserver show` prints: each plan, its writes on their schedule."""
    out = []
    numbers = _numbers(scenario, options.get("response"), options.get("turn"))
    for number, plan in zip(numbers, plans(scenario, api, **options), strict=True):
        title = f"{scenario.name} · response {number + 1} of {len(scenario.responses)} · {api.name}"
        out.append(format_plan(plan, title, api.readable))
        skipped = skipped_steps(api, scenario.response_for(number))
        if skipped:
            out.append(f"   (left out: {api.name} has no form for {', '.join(skipped)})\n")
    return "".join(out)
