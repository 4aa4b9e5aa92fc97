"""create_app() with pytest-aiohttp's aiohttp_client, for aiohttp-native test suites."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from mockserver import create_app
from mockserver.scenario import load_text

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


async def test_streams_through_aiohttp_client(aiohttp_client: AiohttpClient) -> None:
    scenario = load_text("name: hi\nsplit: words\nstream: [{text: hello there}]\n", "hi.yaml")
    client = await aiohttp_client(create_app(scenario, time_scale=0, seed=1))
    response = await client.post(
        "/s/hi/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
    )
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    body = (await response.read()).decode()
    events = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == "hello there"
    health = await client.get("/_mock/health")
    assert (await health.json())["scenarios"] == 1
