"""Slow and idle clients (issue: reliability): a connection that has not sent a
whole request head within `head_timeout` is closed, so clients that connect and
say nothing, or send their headers a byte at a time, cannot pile up.

aiohttp's own timeouts cover the rest: `keepalive_timeout` for idle connections
between requests, and the app reads request bodies under a deadline
(see app._parse).
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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)
        self.inner.connection_made(transport)

    def _expire(self) -> None:
        self.timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()  # no request head in time: a slow or idle client

    def data_received(self, data: bytes) -> None:
        if self.timer is not None:
            seen = self.tail + data
            if HEAD_END in seen:
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
        super().__init__(app, **kwargs)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _GuardedServer(server, self._head_timeout)  # type: ignore[return-value]
