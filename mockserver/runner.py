"""Running the server: in the foreground (the CLI) or in a background thread
with its own event loop (MockServer, the pytest fixture)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable
from types import TracebackType

from aiohttp import web

from .scenario import Scenario
from .server.app import create_app

# Open streams get this long to finish when the server stops; then they are cut.
SHUTDOWN_GRACE = 0.25
LISTEN_BACKLOG = 2048  # a burst of connects must not overflow the accept queue


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 picks a free port); returns the runner and the port."""
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
    await site.start()
    return runner, int(runner.addresses[0][1])


class MockServer:
    """The mock server in a background thread, for tests and scripts:

    with MockServer("scenarios/") as server:
        client = OpenAI(base_url=server.openai_url, api_key="test")
    """

    def __init__(
        self,
        scenarios: Iterable[str | os.PathLike[str] | Scenario] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        seed: int | None = None,
        default: str | None = None,
    ) -> None:
        self.app = create_app(scenarios, time_scale=time_scale, seed=seed, default=default)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    def url_for(self, name: str) -> str:
        return f"{self.url}/s/{name}"

    def start(self) -> MockServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner, self.port = loop.run_until_complete(start_site(self.app, self.host, self.port))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="mockserver", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
