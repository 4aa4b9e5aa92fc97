"""The admin API under /_mock/: health, scenarios, the journal, reset.
JSON in and out; with an admin token, every call but health needs it."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import ScenarioErrors
from ..render import APIS
from ..scenario import Scenario, load_text
from ..scenario.describe import describe_match, describe_responses
from ..version import __version__
from .chaos import ChaosSettings, parse_faults
from .verdicts import by_session, judge

if TYPE_CHECKING:
    from .state import ServerState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SOURCE = "request body"  # how an added scenario's errors name their "file"


_CHAOS_READ_ONLY = ("injected", "next", "paused")  # in GET /_mock/chaos, not settings


PAGE_LIMIT = 1000  # journal entries a GET /_mock/requests page has unless ?limit says
MAX_PAGE_LIMIT = 10_000


# What an admin body may be sent as. Not the types an HTML form or a "simple"
# cross-origin fetch can send (text/plain, form encodings): a web page must not be
# able to post a scenario to the mock running beside the browser.
BODY_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def refusal(request: web.Request, state: ServerState) -> web.Response | None:
    """Why this admin request is refused (a 4xx), if it is: a page of another origin
    (CSRF), a Host name that is not loopback on a loopback server (DNS rebinding),
    a body type a form could send, or a missing or wrong token."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return error_response(403, f"the admin API does not answer pages of another origin ({origin})")
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return error_response(403, "the admin API does not answer requests from other sites")
    if state.bound_host in LOOPBACK_HOSTS and _host_name(request.host) not in LOOPBACK_HOSTS:
        return error_response(
            403, f"this server answers its admin API on loopback names only, not {request.host!r}"
        )
    sent_type = request.headers.get("Content-Type")
    if request.method in ("POST", "PUT") and sent_type is not None and request.content_type not in BODY_TYPES:
        return error_response(415, f"send the body as one of: {', '.join(BODY_TYPES)}")
    token = state.admin_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        # constant time: the comparison leaks nothing about the token; surrogateescape:
        # a header of bytes that are not UTF-8 compares (unequal) instead of failing
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode()):
            return error_response(401, "missing or wrong admin token (Authorization: Bearer TOKEN)")
    return None


def _host_name(host: str) -> str:
    """The name in a Host header, without its port: `[::1]:8080` → `::1`."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def guard(state: ServerState, handler: Handler) -> Handler:
    """`handler`, answering only what the admin rules let through (`refusal`)."""

    async def check(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, state)
        return refused if refused is not None else await handler(request)

    return check


async def read_body(request: web.Request, state: ServerState) -> bytes | web.Response:
    """An admin body, or the 408 for one that drips or stops: it gets the client timeout."""
    try:
        async with asyncio.timeout(state.client_timeout):
            return await request.read()
    except TimeoutError:
        return error_response(408, f"the body did not arrive within {state.client_timeout:g} s")


def add_admin_routes(app: web.Application, state: ServerState) -> None:
    def guarded(handler: Handler) -> Handler:
        return guard(state, handler)

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok", "version": __version__, "scenarios": len(state.registry)})

    async def list_scenarios(request: web.Request) -> web.StreamResponse:
        # with the APIs a scenario can be shown on (the console's choice)
        return web.json_response({"scenarios": [_describe(s) for s in state.registry], "apis": list(APIS)})

    async def add_scenarios(request: web.Request) -> web.StreamResponse:
        data = await read_body(request, state)
        if isinstance(data, web.Response):
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return error_response(400, "the body must be UTF-8 YAML or JSON")
        try:
            default_name = f"added-{len(state.registry) + 1}"
            # parsed off the loop: a large or hostile YAML text takes a while to refuse
            scenarios = await state.offload.run(lambda: load_text(text, SOURCE, default_name=default_name))
        except ScenarioErrors as exc:
            return web.json_response(
                {
                    "error": {"message": "invalid scenario", "type": "invalid_scenario"},
                    "errors": [e.format() for e in exc.errors],
                },
                status=400,
            )
        return web.json_response({"added": state.add(scenarios)}, status=201)

    async def delete_scenario(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if not state.registry.remove(name):
            known = ", ".join(state.registry.names()) or "none"
            return error_response(404, f"no scenario named {name!r}; loaded: {known}")
        return web.json_response({"deleted": name})

    async def list_requests(request: web.Request) -> web.StreamResponse:
        """The journal, oldest first, a page at a time: `?after=ID&limit=N`."""
        try:
            after = int(request.query.get("after", "0"))
            limit = int(request.query.get("limit", str(PAGE_LIMIT)))
        except ValueError:
            return error_response(400, "after and limit must be whole numbers")
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            return error_response(400, f"limit must be from 1 to {MAX_PAGE_LIMIT}")
        entries, more = state.journal.page(after, limit)
        dropped = state.journal.dropped

        def encode() -> bytes:  # a page of large bodies is megabytes: off the loop
            page = [e.to_dict() for e in entries]
            answer = {"requests": page, "dropped": dropped, "has_more": more}
            answer["next_after"] = page[-1]["id"] if page else after
            return json.dumps(answer).encode()

        body = await state.offload.run(encode)
        return web.Response(body=body, content_type="application/json")

    async def clear_requests(request: web.Request) -> web.StreamResponse:
        state.journal.clear()
        return web.json_response({"cleared": True})

    async def reset(request: web.Request) -> web.StreamResponse:
        state.reset()
        return web.json_response({"reset": True, "scenarios": len(state.registry)})

    async def get_chaos(request: web.Request) -> web.StreamResponse:
        settings = state.chaos.settings.to_dict()
        return web.json_response(
            {
                **settings,
                "injected": dict(state.chaos.injected),
                "next": state.chaos.next_fault,  # POST /_mock/chaos/next sets it
                "paused": not state.running.is_set(),  # POST /_mock/pause
            }
        )

    async def put_chaos(request: web.Request) -> web.StreamResponse:
        data = await read_body(request, state)
        if isinstance(data, web.Response):
            return data
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            return error_response(400, "the body must be JSON: {rate, seed, faults, session}")
        if not isinstance(body, dict):
            return error_response(400, "the body must be a JSON object: {rate, seed, faults, session}")
        # what GET answers can be PUT back: its read-only counts are ignored
        unknown = sorted(set(body) - {"rate", "seed", "faults", "session", *_CHAOS_READ_ONLY})
        if unknown:
            return error_response(
                400, f"unknown key(s) {', '.join(unknown)}; expected rate, seed, faults, session"
            )
        current = state.chaos.settings
        rate, seed = body.get("rate", current.rate), body.get("seed", current.seed)
        session = body.get("session", current.session)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            return error_response(400, "rate must be a number from 0 to 1")
        if isinstance(seed, bool) or not isinstance(seed, int):
            return error_response(400, "seed must be a whole number")
        if session is not None and not isinstance(session, str):
            return error_response(400, "session must be a string (an X-Mock-Session value) or null")
        try:
            faults = parse_faults(body["faults"]) if "faults" in body else current.faults
        except (ValueError, AttributeError) as exc:
            return error_response(400, str(exc))
        state.chaos.configure(ChaosSettings(float(rate), seed, faults, session))
        return await get_chaos(request)

    async def stats(request: web.Request) -> web.StreamResponse:
        """What the server holds right now: a client that left must leave nothing."""
        loop = asyncio.get_running_loop()
        scheduled = getattr(loop, "_scheduled", None)  # asyncio keeps its timers here
        fd_dir = Path("/proc/self/fd")
        return web.json_response(
            {
                "open_streams": state.journal.open,
                "tasks": len(asyncio.all_tasks()) - 1,  # less this request's own
                "timers": sum(1 for h in scheduled if not h.cancelled()) if scheduled is not None else None,
                "open_files": len(list(fd_dir.iterdir())) if fd_dir.is_dir() else None,
                "journal": {"size": len(state.journal), "dropped": state.journal.dropped},
            }
        )

    async def verdicts(request: web.Request) -> web.StreamResponse:
        """How each session's client behaved (`?session=ID`: that one only)."""
        loop_now = asyncio.get_running_loop().time()
        sessions = by_session(state.journal.entries())
        wanted = request.query.get("session")
        if wanted is not None:
            sessions = {wanted: sessions.get(wanted, [])}
        judged = {key: [v.to_dict() for v in judge(entries, loop_now)] for key, entries in sessions.items()}
        return web.json_response({"sessions": judged})

    router = app.router
    router.add_get("/_mock/verdicts", guarded(verdicts))
    router.add_get("/_mock/stats", guarded(stats))
    router.add_get("/_mock/chaos", guarded(get_chaos))
    router.add_put("/_mock/chaos", guarded(put_chaos))
    router.add_get("/_mock/health", health)  # unguarded: it tells nothing and changes nothing
    router.add_get("/_mock/scenarios", guarded(list_scenarios))
    router.add_post("/_mock/scenarios", guarded(add_scenarios))
    router.add_delete("/_mock/scenarios/{name}", guarded(delete_scenario))
    router.add_get("/_mock/requests", guarded(list_requests))
    router.add_delete("/_mock/requests", guarded(clear_requests))
    router.add_post("/_mock/reset", guarded(reset))


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "admin_error"}}, status=status)


def _describe(scenario: Scenario) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "description": scenario.description,
        "match": describe_match(scenario),
        "responses": describe_responses(scenario),
        "source": f"{scenario.file}:{scenario.line}",
    }
