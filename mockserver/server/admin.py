"""The admin API under /_mock/ (SPEC §8): health, scenarios, the journal, reset.
JSON in and out; with an admin token, every call but health needs it."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import ScenarioErrors
from ..scenario import Scenario, load_text
from ..show import describe_match, describe_responses
from .chaos import ChaosSettings, parse_faults

if TYPE_CHECKING:
    from .state import ServerState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SOURCE = "request body"  # how an added scenario's errors name their "file"


_CHAOS_READ_ONLY = ("injected",)  # in GET /_mock/chaos, not settings


PAGE_LIMIT = 1000  # journal entries a GET /_mock/requests page has unless ?limit says
MAX_PAGE_LIMIT = 10_000


def add_admin_routes(app: web.Application, state: ServerState) -> None:
    def guarded(handler: Handler) -> Handler:
        async def check(request: web.Request) -> web.StreamResponse:
            token = state.admin_token
            if token is not None:
                given = request.headers.get("Authorization", "")
                expected = f"Bearer {token}"
                # constant time: the comparison leaks nothing about the token
                if not hmac.compare_digest(given.encode(), expected.encode()):
                    return _error(401, "missing or wrong admin token (Authorization: Bearer TOKEN)")
            return await handler(request)

        return check

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"status": "ok", "version": version("mockserver"), "scenarios": len(state.registry)}
        )

    async def list_scenarios(request: web.Request) -> web.StreamResponse:
        return web.json_response({"scenarios": [_describe(s) for s in state.registry]})

    async def add_scenarios(request: web.Request) -> web.StreamResponse:
        try:
            text = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "the body must be UTF-8 YAML or JSON")
        try:
            scenarios = load_text(text, SOURCE, default_name=f"added-{len(state.registry) + 1}")
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
            return _error(404, f"no scenario named {name!r}; loaded: {known}")
        return web.json_response({"deleted": name})

    async def list_requests(request: web.Request) -> web.StreamResponse:
        """The journal, oldest first, a page at a time: `?after=ID&limit=N`."""
        try:
            after = int(request.query.get("after", "0"))
            limit = int(request.query.get("limit", str(PAGE_LIMIT)))
        except ValueError:
            return _error(400, "after and limit must be whole numbers")
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            return _error(400, f"limit must be from 1 to {MAX_PAGE_LIMIT}")
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
        return web.json_response({**settings, "injected": dict(state.chaos.injected)})

    async def put_chaos(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body must be JSON: {rate, seed, faults, session}")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object: {rate, seed, faults, session}")
        # what GET answers can be PUT back: its read-only counts are ignored
        unknown = sorted(set(body) - {"rate", "seed", "faults", "session", *_CHAOS_READ_ONLY})
        if unknown:
            return _error(400, f"unknown key(s) {', '.join(unknown)}; expected rate, seed, faults, session")
        current = state.chaos.settings
        rate, seed = body.get("rate", current.rate), body.get("seed", current.seed)
        session = body.get("session", current.session)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            return _error(400, "rate must be a number from 0 to 1")
        if isinstance(seed, bool) or not isinstance(seed, int):
            return _error(400, "seed must be a whole number")
        if session is not None and not isinstance(session, str):
            return _error(400, "session must be a string (an X-Mock-Session value) or null")
        try:
            faults = parse_faults(body["faults"]) if "faults" in body else current.faults
        except (ValueError, AttributeError) as exc:
            return _error(400, str(exc))
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

    router = app.router
    router.add_get("/_mock/stats", guarded(stats))
    router.add_get("/_mock/chaos", guarded(get_chaos))
    router.add_put("/_mock/chaos", guarded(put_chaos))
    router.add_get("/_mock/health", health)
    router.add_get("/_mock/scenarios", guarded(list_scenarios))
    router.add_post("/_mock/scenarios", guarded(add_scenarios))
    router.add_delete("/_mock/scenarios/{name}", guarded(delete_scenario))
    router.add_get("/_mock/requests", guarded(list_requests))
    router.add_delete("/_mock/requests", guarded(clear_requests))
    router.add_post("/_mock/reset", guarded(reset))


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "admin_error"}}, status=status)


def _describe(scenario: Scenario) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "description": scenario.description,
        "match": describe_match(scenario),
        "responses": describe_responses(scenario),
        "source": f"{scenario.file}:{scenario.line}",
    }
