"""A client that leaves mid-stream costs nothing afterwards: the server's work
for that stream stops at once."""

from __future__ import annotations

import asyncio
import time

from helpers import MESSAGES, ServeFactory, async_openai_client, openai_client
from mockserver import MockServer

LONG = """
name: long
timing: {interval: 10ms}
split: chars
stream:
  - text: "{{ request.last_message }}"
"""


def server_tasks(server: MockServer) -> int:
    loop = server._loop
    assert loop is not None

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1  # not this one

    return asyncio.run_coroutine_threadsafe(count(), loop).result(timeout=5)


def wait_for_tasks(server: MockServer, expected: int, within: float = 2.0) -> int:
    deadline = time.monotonic() + within
    while True:
        tasks = server_tasks(server)
        if tasks <= expected or time.monotonic() > deadline:
            return tasks
        time.sleep(0.02)


def test_closing_the_stream_stops_the_server_work(serve: ServeFactory) -> None:
    server = serve(LONG)
    idle = server_tasks(server)
    client = openai_client(server, "long")
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x" * 2000}], stream=True
    )
    for i, _ in enumerate(stream):
        if i == 10:
            break
    assert server_tasks(server) > idle  # the stream is being played
    stream.close()
    assert wait_for_tasks(server, idle) == idle
    # and the server still serves
    reply = openai_client(server, "long").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello"


async def test_async_client_leaving_a_stall(serve: ServeFactory) -> None:
    server = serve("{name: stall, stream: [{text: a}, stall]}")
    idle = server_tasks(server)
    client = async_openai_client(server, "stall")
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    async for _ in stream:
        break
    await stream.close()
    await client.close()
    await asyncio.sleep(0)
    assert await asyncio.to_thread(wait_for_tasks, server, idle) == idle
