"""The aiohttp application: routes, and the flow of one API request
(parse → choose scenario → plan → play → log)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Unpack

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from ..config import Config, Options
from ..errors import ScenarioNotFound
from ..render import APIS, Api, ApiRequest, BadRequest, Plan
from ..render.auto import AUTO_NAME, auto_response
from ..render.errors import ApiError
from ..render.respond import plan_error
from ..scenario import Response, Scenario, load_scenarios
from ..scenario.fields import suggest
from .admin import add_admin_routes
from .chaos import apply as chaos_apply
from .console import add_console_routes
from .cors import install_cors, preflight
from .journal import Entry
from .match import mismatch
from .models import get_model, list_models, list_models_of
from .offload import give_back_memory
from .parsed import Parsed, parse_key
from .player import Outcome, play
from .state import ServerState

log = logging.getLogger("mockserver.server")

# Where each API lives, as the registry says; every one is also served under /s/NAME/.
ROUTES: dict[str, Api] = {path: api for api in APIS.values() for path in api.routes}
# any other path: the API that serves any path a scenario's match.path names (raw SSE)
FALLBACK = next(api for api in APIS.values() if api.any_path)
HEAVY_BODY = 64 * 1024  # a request body this large is rendered off the loop
MAX_DEPTH = 128  # JSON nesting a request body may have (deeper recursion would fail)


STATE = web.AppKey("mockserver_state", ServerState)
CORS_ORIGINS = web.AppKey("mockserver_cors", tuple[str, ...])


def create_app(
    scenarios: Iterable[str | os.PathLike[str] | Scenario] = (),
    config: Config | None = None,
    **options: Unpack[Options],
) -> web.Application:
    """The mockserver aiohttp Application, serving `scenarios` (files, folders or
    Scenario values), configured by `config` with `options` changed. Raises
    ScenarioErrors on a bad scenario file, MockServerError on a bad option."""
    config = (config or Config()).updated(**options)
    if isinstance(scenarios, (str, os.PathLike)):
        scenarios = [scenarios]
    given = list(scenarios)
    loaded = [s for s in given if isinstance(s, Scenario)]
    paths = [s for s in given if not isinstance(s, Scenario)]
    loaded = load_scenarios(paths) + loaded if paths else loaded
    state = ServerState(tuple(loaded), config)
    if config.upstream is not None:
        from ..record import recorder  # loaded only when recording: a plain server starts sooner

        state.recorder = recorder(
            config.upstream,
            config.record_to,
            redact=tuple(config.redact),
            exact=config.exact,
            stall_after=config.stall_after,
        )
        state.recorder.keep = functools.partial(keep_recorded, state)
    if config.default is not None:
        state.initial.default = state.settings.default = _known(state, config.default)
    app = web.Application(client_max_size=config.max_body)
    app[STATE] = state
    app.on_cleanup.append(functools.partial(_stop_recording, state=state))
    origins = config.origins
    app[CORS_ORIGINS] = origins
    install_cors(app, origins)
    for path, api in ROUTES.items():
        handler = _api_handler(api)
        app.router.add_post(path, handler)
        app.router.add_post("/s/{scenario}" + path, handler)
    # partials of coroutine functions: aiohttp deprecates (warns about) plain callables
    app.router.add_get("/v1/models", functools.partial(list_models, state=state))
    app.router.add_get("/v1/models/{model}", functools.partial(get_model, state=state))
    for api in APIS.values():
        for path in api.routes if api.keeps_history else ():
            app.router.add_get(path + "/{id}", functools.partial(_stored, api=api))
            app.router.add_delete(path + "/{id}", functools.partial(_stored, api=api))
        for path in api.model_list_routes:
            app.router.add_get(path, functools.partial(list_models_of, state=state, api=api))
    add_admin_routes(app, state)
    add_console_routes(app, state)
    app.router.add_route("*", "/{tail:.*}", _unknown_route)  # raw SSE, or a 404
    return app


async def _stop_recording(app: web.Application, state: ServerState) -> None:
    if state.recorder is not None:
        await state.recorder.close()
        state.recorder = None


def keep_recorded(
    state: ServerState, api: Api, request: ApiRequest, scenario: Scenario, response: Response
) -> None:
    """Keep a recorded answer as its replay would be kept, so the next request of the
    recording can continue from it (`previous_response_id`), upstream and on replay alike."""
    plan = state.plans.plan(
        api, response, request, scenario=scenario.name, number=0, seed=scenario.seed, fresh_content=False
    )
    kept = api.to_store(request, plan.whole().body)
    if kept is not None:
        state.store.put(*kept)


def _known(state: ServerState, name: str) -> str:
    if state.registry.get(name) is None:
        raise ScenarioNotFound(name, state.registry.names())
    return name


def _api_handler(api: Api) -> Any:
    # a partial, not a wrapping coroutine: one frame fewer held by every open stream
    return functools.partial(_answer, api=api)


class _Refusal(Exception):
    """Answer with this API error instead of a scenario."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.error = ApiError(status, message, kind, code, param)


async def _answer(request: web.Request, api: Api) -> web.StreamResponse:
    """One request, start to end: parse, choose, plan, play, journal, log."""
    state = request.app[STATE]
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = Outcome()
    raw = api is FALLBACK
    prefix_name, path = _split_prefix(request.path)
    headers = {k.lower(): v for k, v in request.headers.items()}
    entry = state.journal.record(request.method, request.path, headers)
    entry.api = api.name
    entry.live = outcome
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    entry.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else None
    state.feed.publish(entry)
    parsed = ApiRequest(
        api.name, method=request.method, path=path, headers=headers, query=dict(request.query)
    )
    try:
        try:
            parsed = await _parse(request, api, parsed, raw, entry)
            named = prefix_name or headers.get("x-mock-scenario")
            session = headers.get("x-mock-session")
            entry.conversation = conversation = conversation_id(session, parsed)
            entry.tool_results = len(parsed.conversation.tool_results)
            entry.warnings = _echo_warnings(state, conversation, parsed) or None
            recorder = None if named is not None else state.recorder
            scenario = _choose(state, parsed, named, raw, explain=recorder is None)
            turn_response = None
            if scenario is None and recorder is not None:
                replayed = recorder.recordings.replay(parsed)
                if replayed is None:
                    entry.scenario = f"{recorder.recordings.key(parsed)} (recording)"
                    return await recorder.forward(request, api, parsed, outcome)
                scenario, turn_response = replayed
                entry.turn = parsed.conversation.turn
            elif scenario is not None and scenario.conversation:
                turn_response = _turn_response(state, scenario, parsed, session, conversation, entry)
        except _Refusal as refusal:
            plan = plan_error(api, refusal.error, parsed, f"error/{request.path}")
            return await play(request, plan, 0.0, outcome)
        name = scenario.name if scenario is not None else AUTO_NAME
        number = state.next_number(name, headers.get("x-mock-session"))
        if scenario is None:
            response, seed = auto_response(parsed), state.settings.seed
        else:
            entry.scenario = scenario.name
            state.used.add(scenario.name)
            if turn_response is not None:
                response = turn_response
            else:
                entry.response_index = scenario.response_index(number)
                response = scenario.responses[entry.response_index]
            seed = scenario.seed if scenario.seed is not None else state.settings.seed
        # the plan is passed on, not kept here: once written, the player lets go of
        # it, so an open, stalled stream holds as little as it can
        return await play(
            request,
            _noted(entry, await _plan(state, api, scenario, name, response, parsed, number, seed, entry)),
            state.settings.time_scale,
            outcome,
            state.running,
            state.ticker,
        )
    except asyncio.CancelledError:
        outcome.left_early = True  # the client went away; aiohttp cancelled us
        raise
    except ConnectionError:
        # The client went away before aiohttp noticed (a write to a closing
        # transport): normal for a client, journalled as leaving early, not a failure.
        outcome.left_early = True
        return web.Response(status=499)  # never sent: there is no one to send it to
    except Exception as exc:
        # A bug of ours: say so loudly (the pytest fixture fails the test with it),
        # answer in the API's shape if the headers are not out yet, else cut.
        state.record_failure(exc)
        log.exception("mockserver failed on %s %s", request.method, request.path)
        if outcome.headers_sent:
            if request.transport is not None:
                request.transport.close()
            raise
        error = ApiError(500, "mockserver internal error (see its log)", "server_error", None, None)
        return web.json_response(api.error_body(error), status=500)
    finally:
        _complete(entry, outcome, loop.time() - started, api)
        state.journal.finish(entry)
        state.feed.publish(entry)
        _log(state, entry)
        if _heavy(api, entry):
            give_back_memory()  # its megabytes, freed here, go back to the system


def _noted(entry: Entry, plan: Plan) -> Plan:
    """`plan`, with what the verdicts need of it noted in the journal: the wait its
    answer asks for (`retry-after-ms`, else `retry-after` in seconds)."""
    for name, value in plan.headers:
        if name in ("retry-after-ms", "retry-after"):
            try:
                seconds = float(value) / (1000 if name == "retry-after-ms" else 1)
            except ValueError:
                continue  # an HTTP date: not judged
            if entry.retry_after is None or name == "retry-after-ms":
                entry.retry_after = seconds
    return plan


def _complete(entry: Entry, outcome: Outcome, seconds: float, api: Api) -> None:
    entry.status = outcome.status or None
    entry.events_sent = outcome.events_sent
    entry.bytes_sent = outcome.bytes_sent
    entry.ending = outcome.ending if outcome.status or outcome.ending != "close" else None
    entry.left_early = outcome.left_early
    entry.left_after_event = outcome.events_sent if outcome.left_early else None
    entry.duration = seconds
    entry.events_total = outcome.events_total
    entry.writes = outcome.writes if outcome.writes else None
    entry.blocked = outcome.blocked
    entry.live = None
    entry.sent = api.readable(outcome.sent) if outcome.sent else None
    if outcome.left_early and outcome.clock is not None:
        entry.left_at = asyncio.get_running_loop().time() - outcome.clock


async def _parse(request: web.Request, api: Api, base: ApiRequest, raw: bool, entry: Entry) -> ApiRequest:
    state = request.app[STATE]
    try:
        if request.content.is_eof():  # the body came with the head: nothing to wait for
            data = await request.read()
        else:
            async with asyncio.timeout(state.client_timeout):
                data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        message = f"Request too large: a body may have at most {state.max_body} bytes."
        raise _Refusal(413, message, None, "request_too_large", "request_too_large") from None
    except TimeoutError:
        message = "Request timeout: the body did not arrive in time."
        raise _Refusal(408, message, None, "timeout", "request_timeout") from None
    except (RequestPayloadError, HttpProcessingError):
        # a body that is not what its Content-Encoding says (not gzip at all): answer,
        # read no more of it (aiohttp would otherwise drain it after us, and fail), and
        # close the connection after the answer
        request.content.feed_eof()
        request.protocol.close()
        raise _Refusal(400, "The request body could not be decoded as its Content-Encoding says.") from None
    key = parse_key(api.name, request.method, request.path, base.query, base.headers, data)
    known = state.parsed.get(key)
    if known is None:
        known = _parsed(request, api, base, raw, entry, data)
        state.parsed.put(key, known)
    else:
        state.journal.keep_body(entry, data, known.body)
        entry.fingerprint = known.fingerprint
    try:
        return api.with_history(known.request, state.store.chain)
    except BadRequest as exc:
        if state.recorder is not None:
            return known.request  # history the upstream keeps: it answers for it
        raise _Refusal(400, exc.message, exc.param, exc.code) from None


def _parsed(request: web.Request, api: Api, base: ApiRequest, raw: bool, entry: Entry, data: bytes) -> Parsed:
    """The body parsed and checked by its API (its JSON kept in the journal first, so
    a refused body is still shown)."""
    try:
        body = json.loads(data) if data or not raw else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        if not raw:
            raise _Refusal(400, _INVALID_JSON) from None
        body = None
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth_over(body, MAX_DEPTH):
        raise _Refusal(400, f"The request body is nested too deeply: at most {MAX_DEPTH} levels.")
    state = request.app[STATE]
    state.journal.keep_body(entry, data, body)
    entry.fingerprint = hashlib.blake2b(
        f"{request.method} {request.path}\0".encode() + data, digest_size=8
    ).hexdigest()
    try:
        return Parsed(api.parse(body, replace(base, json=body)), body, entry.fingerprint)
    except BadRequest as exc:
        raise _Refusal(400, exc.message, exc.param, exc.code) from None


def _depth_over(value: Any, limit: int) -> bool:
    """Whether JSON `value` nests deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False


def _choose(
    state: ServerState, request: ApiRequest, named: str | None, raw: bool, *, explain: bool = True
) -> Scenario | None:
    """The scenario for the request; None for the auto-responder (or the recorder).
    On a raw path only a scenario named, or one whose `match.path` names the path,
    applies. In strict mode a miss is refused with why, unless `explain` is False
    (recording: a miss goes to the upstream)."""
    try:
        if raw and named is None:
            found = state.registry.first_match(request, require_path=True)
            if found is None and explain:
                raise _Refusal(
                    404, f"Unknown request URL: {request.method} {request.path}.", None, "unknown_url"
                )
            return found
        chosen = state.registry.choose(request, named=named, default=state.settings.default)
        if chosen is None and state.settings.strict and explain:
            reasons = state.registry.explain_miss(request) or ["no scenarios are loaded"]
            message = (
                f"mockserver (strict): no scenario answers {request.method} {request.path}. "
                + "; ".join(reasons)
            )
            raise _explained_miss(state, message, "no_scenario_matched")
        return chosen
    except ScenarioNotFound as exc:
        message = (
            f"No scenario named '{exc.name}'{suggest(exc.name, exc.known)}. "
            f"Loaded scenarios: {', '.join(exc.known) or 'none'}."
        )
        raise _Refusal(404, message, None, "scenario_not_found") from None


def _explained_miss(state: ServerState, message: str, code: str) -> _Refusal:
    """A 404 that says why no scenario (or turn) answered, kept for the pytest
    fixture to fail the test with."""
    state.misses.append(message)
    return _Refusal(404, message, None, code)


def conversation_id(session: str | None, request: ApiRequest) -> str:
    """Which conversation a request belongs to: its session and first user message."""
    key = f"{session or ''}\0{request.conversation.first_message}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=6).hexdigest()


def _echo_warnings(state: ServerState, conversation: str, request: ApiRequest) -> list[str]:
    """What the client sent back wrong: a tool result for a call mockserver never
    made in this conversation, or a call's arguments other than those it streamed."""
    known = state.issued.get(conversation)
    if not known:
        return []
    warnings = []
    for result in request.conversation.tool_results:
        if result.id and result.id not in known:
            warnings.append(
                f"tool result for {result.id!r}: mockserver made no such call in this conversation"
            )
    for call_id, name, arguments in request.conversation.earlier_calls:
        streamed = known.get(call_id)
        if streamed is not None and not _same_json(streamed[1], arguments):
            warnings.append(
                f"call {call_id!r} ({name}) came back with arguments {arguments!r}; "
                f"mockserver streamed {streamed[1]!r}"
            )
    return warnings


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


def _turn_response(
    state: ServerState,
    scenario: Scenario,
    request: ApiRequest,
    session: str | None,
    conversation: str,
    entry: Entry,
) -> Response:
    """The response of a `conversation:` scenario for the request's turn. Retries of
    a turn (the same conversation, turn and session) walk that turn's `responses`,
    so a 503 and the client's retry stay on the turn, and conversations told apart by
    their first user message (and session) never move each other."""
    number = request.conversation.turn
    turn = scenario.turn_for(number)
    entry.turn = number
    if turn.match is not None:
        why = mismatch(turn.match, request)
        if why is not None:
            message = f"mockserver: {scenario.name}, turn {number} (of {len(scenario.conversation)}): {why}"
            raise _explained_miss(state, message, "turn_guard_failed")
    indices = scenario.turn_indices(number)
    retry = state.next_number(f"{scenario.name}\0{conversation}\0turn at {indices.start}", session)
    entry.response_index = indices[min(retry, len(indices) - 1)]
    return scenario.responses[entry.response_index]


async def _plan(
    state: ServerState,
    api: Api,
    scenario: Scenario | None,
    name: str,
    response: Response,
    request: ApiRequest,
    number: int,
    seed: int | None,
    entry: Entry,
) -> Plan:
    """The request's plan, with a chaos fault in it when one is drawn. A heavy one
    (embeddings, a large request to echo) is rendered off the loop."""
    make = functools.partial(
        state.plans.plan,
        api,
        response,
        request,
        scenario=name,
        number=number,
        seed=seed,
        fresh_content=scenario is None,
    )
    entry.skipped = state.plans.skipped(api, response) or None
    # a heavy plan is not cached: the cache is touched only from the loop
    plan = await state.offload.run(functools.partial(make, cache=False)) if _heavy(api, entry) else make()
    if plan.issued and entry.conversation is not None:
        state.remember_calls(entry.conversation, plan.issued)
    if api.keeps_history and plan.status == 200:
        plan = plan.whole()  # what is kept is the whole answer
        kept = api.to_store(request, plan.body)
        if kept is not None:
            state.store.put(*kept)
    if scenario is None or scenario.chaos:
        picked = state.chaos.pick(request.headers.get("x-mock-session"), plan.streaming and plan.status < 400)
        if picked is not None:
            entry.fault = picked[0]
            plan = chaos_apply(picked[0], picked[1], plan.whole(), api, request)
    return plan


def _heavy(api: Api, entry: Entry) -> bool:
    """Whether the request's work is large: rendered off the loop, memory given back."""
    return api.heavy or entry.body_size > HEAVY_BODY


async def _stored(request: web.Request, api: Api) -> web.Response:
    """GET or DELETE an answer the server kept (`GET /v1/responses/{id}`)."""
    store = request.app[STATE].store
    key = request.match_info["id"]
    found = store.response(key)
    if found is None:
        error = ApiError(404, f"Response with id '{key}' not found.", "invalid_request_error", None, None)
        return web.json_response(api.error_body(error), status=404)
    if request.method == "DELETE":
        store.delete(key)
        return web.json_response({"id": key, "object": "response.deleted", "deleted": True})
    return web.json_response(found)


def _split_prefix(path: str) -> tuple[str | None, str]:
    """`/s/NAME/v1/...` → ("NAME", "/v1/..."); any other path → (None, path)."""
    if path.startswith("/s/"):
        name, slash, rest = path[3:].partition("/")
        if name and slash:
            return name, "/" + rest
    return None, path


_INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The API expects a JSON payload, but what was sent "
    "was not valid JSON.)"
)


async def _unknown_route(request: web.Request) -> web.StreamResponse:
    answer = preflight(request, request.app[CORS_ORIGINS])
    if answer is not None:
        return answer
    _, path = _split_prefix(request.path)
    if path in ROUTES:
        message = f"Method {request.method} is not allowed for {path}; use POST."
        error = ApiError(405, message, "invalid_request_error", "method_not_allowed", None)
        return web.json_response(ROUTES[path].error_body(error), status=405)
    return await _answer(request, FALLBACK)


def _log(state: ServerState, entry: Entry) -> None:
    if state.log is not None:
        state.log.request(entry)
