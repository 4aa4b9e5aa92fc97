"""Shared fixtures: a real mockserver on 127.0.0.1 in a background thread, and
OpenAI clients pointed at it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockserver import MockServer
from mockserver.scenario import load_text

ServeFactory = Callable[..., MockServer]


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


def openai_client(server: MockServer, scenario: str | None = None, **options: Any) -> Any:
    from openai import OpenAI

    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    base = server.url_for(scenario) + "/v1" if scenario else server.openai_url
    return OpenAI(base_url=base, api_key="test-key", **options)


def async_openai_client(server: MockServer, scenario: str | None = None, **options: Any) -> Any:
    from openai import AsyncOpenAI

    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    base = server.url_for(scenario) + "/v1" if scenario else server.openai_url
    return AsyncOpenAI(base_url=base, api_key="test-key", **options)


MESSAGES = [{"role": "user", "content": "Hello"}]
