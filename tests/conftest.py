"""Shared fixtures: `serve`, a real mockserver per test with inline scenarios, and a
guard that fails any test during which the server logged an error."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import OPEN_CLIENTS, ServeFactory
from mockserver import MockServer
from mockserver.scenario import load_text

pytest_plugins = ["pytester"]


@pytest.fixture
def serve() -> Iterator[ServeFactory]:
    """serve(YAML, ..., time_scale=1.0, seed=None) → a started MockServer with those
    scenarios (each YAML text may hold one scenario or a `scenarios:` list)."""
    servers: list[MockServer] = []

    def start(*documents: str, **options: Any) -> MockServer:
        scenarios = []
        for number, text in enumerate(documents):
            scenarios += load_text(textwrap.dedent(text), f"<test-{number}>", f"scenario{number}")
        server = MockServer(scenarios, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail any test during which the server logged an unhandled exception."""
    yield
    errors = [
        r
        for r in caplog.get_records("call")
        if r.levelno >= 40 and (r.name.startswith("aiohttp") or r.name.startswith("mockserver"))
    ]
    assert not errors, "server errors:\n" + "\n".join(r.getMessage() for r in errors)


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    """Close the SDK clients the test made through helpers.closing."""
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()
