"""CORS for the API endpoints, so a web front end on another localhost
port can stream from the mock. The admin API gets none: a page must not be able
to rewrite the server's scenarios."""

from __future__ import annotations

from aiohttp import web

ADMIN_PREFIX = "/_mock/"
EXPOSED = "x-request-id, request-id, x-mock-fault, retry-after, retry-after-ms"


def allowed_origin(origins: tuple[str, ...], origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for a request from `origin`, if any."""
    if origin is None or not origins:
        return None
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def install_cors(app: web.Application, origins: tuple[str, ...]) -> None:
    """Answer preflights and mark API responses; `origins` empty turns CORS off."""

    async def mark(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith(ADMIN_PREFIX):
            return
        value = allowed_origin(origins, request.headers.get("Origin"))
        if value is not None:
            response.headers["Access-Control-Allow-Origin"] = value
            response.headers["Access-Control-Expose-Headers"] = EXPOSED
            if value != "*":
                response.headers["Vary"] = "Origin"

    app.on_response_prepare.append(mark)


def preflight(request: web.Request, origins: tuple[str, ...]) -> web.StreamResponse | None:
    """The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method)."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    if (
        request.path.startswith(ADMIN_PREFIX)
        or allowed_origin(origins, request.headers.get("Origin")) is None
    ):
        return web.Response(status=403, text="CORS is not allowed here")
    asked = request.headers.get("Access-Control-Request-Headers", "")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": asked or "*",
            "Access-Control-Max-Age": "600",
        },
    )
