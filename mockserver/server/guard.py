"""Slow and idle clients: a request head must arrive whole within `head_timeout`,
or the connection is closed, so clients that connect and say nothing, or send
their headers a byte at a time, cannot pile up. That holds for every request on
a connection: the first from the connect, each later one (keep-alive) from its
first byte. Blank lines before a request line (which HTTP allows) do not count
as its start.

aiohttp's own timeouts cover the rest: `keepalive_timeout` for idle connections
between requests; the app reads request bodies under a deadline (app._parse,
admin.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

HEAD_END = b"\r\n\r\n"


class _Guard(asyncio.Protocol):
    """Stands in front of aiohttp's protocol for one connection and forwards
    everything to it, watching only for the end of the first request head."""

    def __init__(self, inner: Any, timeout: float) -> None:
        self.inner = inner
        self.timeout = timeout
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.tail = b""  # the last bytes seen, for a head end split across reads
        self.started = False  # whether the awaited head has begun (past blank lines)
        self.awaiting_next = False  # a request was answered: the next head starts the clock

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self._arm()
        self.inner.connection_made(transport)

    def expect_head(self) -> None:
        """The current request is answered: the next one's head gets its own deadline,
        from its first byte (an idle connection is aiohttp's keep-alive timeout's)."""
        if self.timer is None:
            self.awaiting_next, self.started, self.tail = True, False, b""

    def _arm(self) -> None:
        self.timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)

    def _expire(self) -> None:
        self.timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()  # no request head in time: a slow or idle client

    def data_received(self, data: bytes) -> None:
        if self.awaiting_next and data:
            self.awaiting_next = False
            self._arm()
        if self.timer is not None:
            seen = data
            if not self.started:
                seen = data.lstrip(b"\r\n")  # blank lines before the request line
                self.started = bool(seen)
            seen = self.tail + seen
            if self.started and HEAD_END in seen:
                self.timer.cancel()
                self.timer = None
            else:
                self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self.inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


@web.middleware
async def next_head_deadline(request: web.Request, handler: Any) -> web.StreamResponse:
    """Once a request is handled, the connection's next head is timed again."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    finally:
        transport = request.transport
        guard = transport.get_protocol() if transport is not None else None
        if isinstance(guard, _Guard):
            guard.expect_head()


class _GuardedServer:
    """aiohttp's Server, with each new connection's protocol behind a _Guard."""

    def __init__(self, server: web.Server, timeout: float) -> None:
        self._server = server
        self._timeout = timeout

    def __call__(self) -> _Guard:
        return _Guard(self._server(), self._timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


class GuardedAppRunner(web.AppRunner):
    """An AppRunner whose connections must send a request head in time."""

    def __init__(self, app: web.Application, *, head_timeout: float, **kwargs: Any) -> None:
        if next_head_deadline not in app.middlewares:
            app.middlewares.append(next_head_deadline)
        super().__init__(app, **kwargs)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _GuardedServer(server, self._head_timeout)  # type: ignore[return-value]
