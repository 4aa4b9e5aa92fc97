"""200 clients at once walk the same fail-twice-then-succeed scenario, each under
its own X-Mock-Session: each sees exactly its own 503, 503, 200."""

from __future__ import annotations

import asyncio

import httpx

from helpers import ServeFactory

FLAKY = """
name: flaky
responses:
  - {status: 503}
  - {status: 503}
  - {body: {ok: true}}
"""


def test_concurrent_sessions_keep_their_own_sequence(serve: ServeFactory) -> None:
    server = serve(FLAKY, time_scale=0)
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}

    async def walk(client: httpx.AsyncClient, session: int) -> list[int]:
        statuses = []
        for _ in range(3):
            response = await client.post(
                "/s/flaky/v1/chat/completions", json=body, headers={"X-Mock-Session": f"client-{session}"}
            )
            statuses.append(response.status_code)
        return statuses

    async def everyone() -> list[list[int]]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
            return list(await asyncio.gather(*(walk(client, n) for n in range(200))))

    assert asyncio.run(everyone()) == [[503, 503, 200]] * 200
    assert len(server.requests) == 600
