"""One request's answer, as a Plan: the single entry point used by the server and
by `mockserver show`, so both produce the same bytes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from ..scenario.model import Response
from ..scenario.template import Template, render_json
from . import errors, sse
from .api import Api, Rendering
from .plan import Cut, Plan, cut_writes, group, sliced
from .request import ApiRequest
from .script import Script, build, content_seed, identity, seed_base

JSON_TYPE = "application/json"


def plan_response(
    api: Api,
    response: Response,
    request: ApiRequest,
    *,
    scenario: str,
    number: int,
    seed: int | None,
    fresh_content: bool = False,
    slice_over: int | None = None,
) -> Plan:
    """How to answer `request` with `response` (request `number` of `scenario`).
    Fake content is the same for every request a response answers, unless
    `fresh_content` (the auto-responder's varies from request to request). A stream
    of more than `slice_over` pieces is rendered as it plays (see Plan.rest)."""
    base = seed_base(seed, scenario, number)
    delay = response.transport.headers_delay

    if response.error is not None or (
        response.status is not None
        and response.status >= 400
        and not response.stream
        and response.body is None
    ):
        status = errors.status_for(response.error, response.status)
        error = errors.resolve(response.error, status, request)
        return _json_plan(
            api,
            response,
            request,
            base,
            status,
            api.error_body(error, identity(base).request_id),
            error,
            delay,
        )

    if response.body is not None:
        status = response.status or 200
        if isinstance(response.body, Template):
            text = response.body.render(request)
            return _body_plan(
                api,
                response,
                request,
                base,
                status,
                text.encode("utf-8"),
                "text/plain; charset=utf-8",
                None,
                delay,
                0.0,
            )
        body = render_json(response.body, request)
        return _json_plan(api, response, request, base, status, body, None, delay)

    content = base if fresh_content else content_seed(seed, scenario, response)
    script = build(response, request, request, base, content, seed)
    rendering = Rendering(script, request, response)
    if request.stream:
        plan = _stream_plan(api, rendering, base, slice_over)
    else:
        plan = _complete_plan(api, rendering, base)
    issued = api.issued_calls(script)
    return replace(plan, issued=issued) if issued else plan


def _headers(
    api: Api,
    response: Response,
    request: ApiRequest,
    base: str,
    content_type: str | dict[str, str],
    error: errors.ApiError | None,
) -> tuple[tuple[str, str], ...]:
    merged: dict[str, str] = {}
    if isinstance(content_type, dict):
        merged.update(content_type)
    else:
        merged["content-type"] = content_type
    merged.update(api.response_headers(error, identity(base).request_id))
    for name, value in response.headers:  # the scenario's own headers win
        merged[name.lower()] = value.render(request)
    return tuple(merged.items())


def _json_plan(
    api: Api,
    response: Response,
    request: ApiRequest,
    base: str,
    status: int,
    body: Any,
    error: errors.ApiError | None,
    delay: float,
    at: float = 0.0,
) -> Plan:
    if isinstance(body, sse.RawJson):
        # not copied into bytes: a bytearray reads (len, slices, writes) as bytes do
        data = cast(bytes, body.data)
    else:
        data = sse.to_json(body).encode("ascii")
    return _body_plan(api, response, request, base, status, data, JSON_TYPE, error, delay, at)


def _body_plan(
    api: Api,
    response: Response,
    request: ApiRequest,
    base: str,
    status: int,
    data: bytes,
    content_type: str,
    error: errors.ApiError | None,
    delay: float,
    at: float,
) -> Plan:
    return Plan(
        status=status,
        headers=_headers(api, response, request, base, content_type, error),
        streaming=False,
        body=data,
        cuts=(Cut(at, len(data), 1),),
        ending_at=at,
        headers_delay=delay,
    )


def _stream_plan(api: Api, rendering: Rendering, base: str, slice_over: int | None) -> Plan:
    response = rendering.response
    events = api.stream(rendering)
    size = response.transport.write_size
    rest = None
    if size is not None:  # cut by a seeded size across the whole body
        body, cuts = cut_writes(list(events), size, base)
    elif slice_over is not None and len(rendering.script.beats) > slice_over:  # long: as it plays
        (body, cuts), rest = sliced(events)
    else:
        body, cuts = group(list(events))
    stop = rendering.script.reply.stop
    ending_at = _stop_at(rendering.script) if stop is not None else rendering.script.end_at
    return Plan(
        status=response.status or 200,
        headers=_headers(api, response, rendering.request, base, api.stream_headers(rendering.request), None),
        streaming=True,
        body=body,
        cuts=cuts,
        ending="close" if stop is None or stop.how == "end" else stop.how,
        ending_at=ending_at,
        hold=stop.hold if stop is not None else None,
        headers_delay=response.transport.headers_delay,
        coalesce=size is None,
        rest=rest,
    )


def _complete_plan(api: Api, rendering: Rendering, base: str) -> Plan:
    """A non-streamed request: the accumulated body, sent when the stream would
    have ended. A mid-stream error becomes an error response; a connection
    fault (disconnect, reset, stall) hits before any response."""
    script, response, request = rendering.script, rendering.response, rendering.request
    reply = script.reply
    delay = response.transport.headers_delay
    if reply.stop is not None and reply.stop.how != "end":
        return Plan(
            status=0,
            headers=(),
            streaming=False,
            ending=reply.stop.how,
            ending_at=_stop_at(script),
            hold=reply.stop.hold,
            headers_delay=delay,
        )
    if reply.error is not None:
        error = reply.error
        return _json_plan(
            api,
            response,
            request,
            base,
            error.status,
            api.error_body(error, script.identity.request_id),
            error,
            delay,
            script.end_at,
        )
    return _json_plan(
        api, response, request, base, response.status or 200, api.body(rendering), None, delay, script.end_at
    )


def _stop_at(script: Script) -> float:
    return script.beats.last_at()


def plan_error(api: Api, error: errors.ApiError, request: ApiRequest, seed_text: str) -> Plan:
    """An error the server itself answers with (bad request, unknown scenario)."""
    return _json_plan(
        api,
        Response(line=0),
        request,
        seed_text,
        error.status,
        api.error_body(error, identity(seed_text).request_id),
        error,
        0.0,
    )
