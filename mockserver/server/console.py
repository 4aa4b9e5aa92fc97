"""The console's routes under /_mock/: the page itself (`/_mock/console`, files
shipped in the package, nothing fetched from elsewhere), and what it reads and
changes: the live feed, one request's timeline, a scenario's `show` on any API, the
one-shot fault for the next request, and pausing every stream. Every data route
follows the admin API's rules (`admin.refusal`); the page asks for the token."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import TYPE_CHECKING

from aiohttp import web

from ..errors import MockServerError
from ..render import APIS
from ..show import show_text
from .admin import Handler, error_response, guard, read_body
from .chaos import FAULTS

if TYPE_CHECKING:
    from .state import ServerState

PAGE_FILES = {"console.js": "text/javascript", "console.css": "text/css"}
# The page may talk to this server only, and be framed by no one.
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def add_console_routes(app: web.Application, state: ServerState) -> None:
    def guarded(handler: Handler) -> Handler:
        return guard(state, handler)

    async def page(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("file", "index.html")
        kind = PAGE_FILES.get(name, "text/html" if name == "index.html" else None)
        if kind is None:
            raise web.HTTPNotFound()
        text = files("mockserver.console").joinpath(name).read_text(encoding="utf-8")
        return web.Response(text=text, content_type=kind, headers=PAGE_HEADERS)

    async def events(request: web.Request) -> web.StreamResponse:
        return await state.feed.serve(request, state.journal.snapshot())

    async def one_request(request: web.Request) -> web.StreamResponse:
        try:
            entry = state.journal.get(int(request.match_info["id"]))
        except ValueError:
            entry = None
        if entry is None:
            return error_response(404, "no such request in the journal (it may have been dropped)")
        return web.Response(body=json.dumps(entry.to_dict()).encode(), content_type="application/json")

    async def next_fault(request: web.Request) -> web.StreamResponse:
        body = await _json(request, state)
        if isinstance(body, web.Response):
            return body
        fault = body.get("fault") if isinstance(body, dict) else None
        if fault is not None and fault not in FAULTS:
            return error_response(400, f"fault must be one of {', '.join(FAULTS)} (or null to cancel)")
        state.chaos.next_fault = fault
        return web.json_response({"next": fault})

    async def pause(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            body = await _json(request, state)
            if isinstance(body, web.Response):
                return body
            paused = body.get("paused") if isinstance(body, dict) else None
            if not isinstance(paused, bool):
                return error_response(400, 'send {"paused": true} or {"paused": false}')
            state.running.clear() if paused else state.running.set()
        return web.json_response({"paused": not state.running.is_set()})

    async def show(request: web.Request) -> web.StreamResponse:
        scenario = state.registry.get(request.match_info["name"])
        api = APIS.get(request.query.get("api", "chat"))
        if scenario is None or api is None:
            return error_response(404, f"no such scenario, or no API named {request.query.get('api')!r}")
        try:
            text = await state.offload.run(
                lambda: show_text(scenario, api, stream=request.query.get("stream") != "false")
            )
        except MockServerError as exc:
            return error_response(400, str(exc))
        return web.Response(text=text, content_type="text/plain")

    router = app.router
    router.add_get("/_mock/console", page)  # the page holds no data: its calls need the token
    router.add_get("/_mock/console/{file}", page)
    router.add_get("/_mock/events", guarded(events))
    router.add_get("/_mock/requests/{id}", guarded(one_request))
    router.add_post("/_mock/chaos/next", guarded(next_fault))
    router.add_get("/_mock/pause", guarded(pause))
    router.add_post("/_mock/pause", guarded(pause))
    router.add_get("/_mock/scenarios/{name}/show", guarded(show))


async def _json(request: web.Request, state: ServerState) -> object:
    """The body as JSON (None if it is not), read under the admin API's client timeout."""
    data = await read_body(request, state)
    if isinstance(data, web.Response):
        return data
    try:
        return json.loads(data or b"null")
    except ValueError:
        return None
