"""Running the server: in the foreground (the CLI) or in a background thread
with its own event loop (MockServer, the pytest fixture)."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

from aiohttp import web

from .config import CLIENT_TIMEOUT, STALL_AFTER, Config, Options
from .errors import MockServerError, ScenarioNotFound
from .scenario import Scenario, load_mapping, load_text
from .server.app import STATE, create_app, keep_recorded
from .server.guard import GuardedAppRunner
from .server.journal import Entry
from .server.state import ServerState
from .server.verdicts import Verdicts, judge, session_of

T = TypeVar("T")

# Open streams get this long to finish when the server stops; then they are cut.
SHUTDOWN_GRACE = 0.25
LISTEN_BACKLOG = 2048  # a burst of connects must not overflow the accept queue
KEEPALIVE_TIMEOUT = 75.0  # an idle keep-alive connection is closed after this long
# After answering a request whose body was not all read (413, 408), read and drop
# what the client still sends for at most this long, then close (aiohttp: 10 s).
LINGERING_TIME = 1.0


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 picks a free port); returns the runner and the port."""
    state = app.get(STATE)
    if state is not None:
        state.bound_host = host
    runner = GuardedAppRunner(
        app,
        head_timeout=state.client_timeout if state is not None else CLIENT_TIMEOUT,
        handler_cancellation=True,  # a client that leaves cancels its handler at once
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        lingering_time=LINGERING_TIME,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
    await site.start()
    return runner, int(runner.addresses[0][1])


class BackgroundServer:
    """Any aiohttp application served from a background thread with its own loop."""

    def __init__(self, app: web.Application, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self: Self) -> Self:
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

    def __enter__(self: Self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class MockServer(BackgroundServer):
    """The mock server in a background thread, for tests and scripts:

    with MockServer("scenarios/") as server:
        client = OpenAI(base_url=server.openai_url, api_key="test")
    """

    def __init__(
        self,
        scenarios: Iterable[str | os.PathLike[str] | Scenario] = (),
        config: Config | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Unpack[Options],
    ) -> None:
        """Serve `scenarios` with `config` (default: Config()), `options` changed
        (time_scale=0, seed=7, strict=True, ...: see Config)."""
        app = create_app(scenarios, config, **options)
        super().__init__(app, host=host, port=port)
        self._state: ServerState = app[STATE]
        self._added = 0
        self._added_names: list[str] = []  # by add(), since the last reset

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def console_url(self) -> str:
        """The console: the live feed, timelines, chaos controls (open it in a browser)."""
        return f"{self.url}/_mock/console"

    def url_for(self, name: str) -> str:
        return f"{self.url}/s/{name}"

    # --- what a test does with the server (each runs on the server's loop) ---

    def _call(self, function: Callable[[ServerState], T]) -> T:
        """Run `function(state)` on the server's loop, where the state lives."""
        loop = self._loop
        if loop is None or self._thread is None:
            return function(self._state)  # not started: nothing else touches it

        async def run() -> T:
            return function(self._state)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=10)

    def _call_async(self, function: Callable[[ServerState], Coroutine[Any, Any, T]]) -> T:
        """Run the coroutine `function(state)` on the server's loop."""
        loop = self._loop
        if loop is None or self._thread is None:
            return asyncio.run(function(self._state))
        return asyncio.run_coroutine_threadsafe(function(self._state), loop).result(timeout=30)

    def add(self, scenario: Mapping[str, Any] | str | os.PathLike[str]) -> str:
        """Add a scenario while serving: a mapping, YAML text, or a file path.
        Returns its name (the first one's, for a file of several). A bad scenario
        raises ScenarioErrors naming the key path."""
        self._added += 1
        default_name = f"added-{self._added}"
        if isinstance(scenario, Mapping):
            data = dict(scenario)
            data.setdefault("name", default_name)
            scenarios = load_mapping(data, "<added scenario>")
        elif isinstance(scenario, str) and not _is_path(scenario):
            scenarios = load_text(scenario, "<added scenario>", default_name=default_name)
        else:
            path = Path(scenario)
            scenarios = load_text(path.read_text(encoding="utf-8"), str(path))
        names = self._call(lambda state: state.add(scenarios))
        self._added_names.extend(n for n in names if n not in self._added_names)
        return names[0]

    def record(
        self,
        upstream: str,
        into: str | os.PathLike[str],
        *,
        redact: Iterable[str] = (),
        exact: bool = False,
        stall_after: float = STALL_AFTER,
    ) -> None:
        """Send requests no scenario answers to `upstream`, recording each answer into
        `into` (a folder: a file per conversation; a `.yaml` file: all in it), and play
        what `into` already holds, until `stop_recording()`."""
        from .record import recorder  # loaded only when recording: a plain server starts sooner

        made = recorder(upstream, Path(into), redact=tuple(redact), exact=exact, stall_after=stall_after)

        async def start(state: ServerState) -> None:
            if state.recorder is not None:
                await state.recorder.close()
            made.keep = functools.partial(keep_recorded, state)
            state.recorder = made

        self._call_async(start)

    def stop_recording(self) -> None:
        """Stop recording: requests no scenario answers get the auto-responder (or,
        strict, a 404) again. Answers still being read are let go."""

        async def stop(state: ServerState) -> None:
            if state.recorder is not None:
                await state.recorder.close()
                state.recorder = None

        self._call_async(stop)

    def use(self, name: str) -> None:
        """Answer requests no rule matches with scenario `name`, until reset."""

        def set_default(state: ServerState) -> None:
            if state.registry.get(name) is None:
                raise ScenarioNotFound(name, state.registry.names())
            state.settings.default = name

        self._call(set_default)

    def configure(
        self, *, time_scale: float | None = None, seed: int | None = None, strict: bool | None = None
    ) -> None:
        """Change the time scale, seed or strictness until reset."""
        if time_scale is not None and time_scale < 0:
            raise MockServerError(f"time_scale must be 0 or more, got {time_scale}")

        def apply(state: ServerState) -> None:
            if time_scale is not None:
                state.settings.time_scale = time_scale
            if seed is not None:
                state.settings.seed = seed
            if strict is not None:
                state.settings.strict = strict

        self._call(apply)

    @property
    def requests(self) -> list[Entry]:
        """The journal, oldest first. Waits a moment for requests still being
        answered (a client that just closed its stream is noticed right after)."""
        self._settle()
        return self._call(lambda state: state.journal.snapshot())

    def _settle(self) -> None:
        """Wait a moment (at most 0.25 s) for the requests still being answered."""
        deadline = time.monotonic() + 0.25
        while self._call(lambda state: state.journal.open) and time.monotonic() < deadline:
            time.sleep(0.005)

    def reset(self) -> None:
        """Forget counters, journal, added scenarios and changed settings."""
        self._added_names.clear()
        self._added = 0  # default names (added-1, ...) start again, as the scenarios do
        self._call(lambda state: state.reset())

    def take_misses(self) -> list[str]:
        """Strict mode's explained misses since the last call (then forgotten)."""
        return self._call(lambda state: _taken(state.misses))

    def assert_all_used(self) -> None:
        """Fail (AssertionError) if a scenario added since the last reset answered no request."""
        added = self._added_names
        used = self._call(lambda state: set(state.used))
        unused = [name for name in added if name not in used]
        if unused:
            raise AssertionError(f"mockserver: scenario(s) added but never requested: {', '.join(unused)}")

    @property
    def verdicts(self) -> Verdicts:
        """How the client behaved in the requests since the last reset (in pytest: this
        test's), judged as one session; `verdicts_for(session)` judges one X-Mock-Session."""
        return self.verdicts_for(None)

    def verdicts_for(self, session: str | None) -> Verdicts:
        self._settle()  # streams that just ended are judged with their endings

        def judged(state: ServerState) -> Verdicts:
            entries = [e for e in state.journal.entries() if not e.path.startswith("/_mock/")]
            if session is not None:
                entries = [e for e in entries if session_of(e) == session]
            loop_now = asyncio.get_running_loop().time()
            return Verdicts(judge(entries, loop_now))

        return self._call(judged)

    def take_failures(self) -> list[BaseException]:
        """Exceptions raised inside the server since the last call (then forgotten)."""
        return self._call(lambda state: _taken(state.failures))


def _taken(kept: deque[T]) -> list[T]:
    """What `kept` holds, which is then emptied."""
    taken = list(kept)
    kept.clear()
    return taken


def _is_path(value: str | os.PathLike[str]) -> bool:
    """A path object, or a one-line string naming a scenario file (else YAML text)."""
    if isinstance(value, os.PathLike):
        return True
    return "\n" not in value and value.endswith((".yaml", ".yml", ".json"))
