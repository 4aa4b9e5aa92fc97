"""The live feed of requests, for the console: `GET /_mock/events`, Server-Sent
Events, one `request` event when a request arrives and again when its answer ends.

Each event is encoded once, whoever listens; a listener that does not keep up loses
events (its queue is bounded) rather than holding the server's memory."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .journal import Entry

QUEUE = 2000  # events a listener may be behind before it loses some
BACKLOG = 200  # requests a new listener is sent first, from the journal
KEEPALIVE = 15.0  # seconds between comments on a quiet feed (proxies close idle streams)


def summary(entry: Entry) -> dict[str, Any]:
    """A request as a row of the console: what arrived and, once ended, what it got."""
    return {
        "id": entry.id,
        "time": entry.time,
        "method": entry.method,
        "path": entry.path,
        "api": entry.api,
        "session": entry.headers.get("x-mock-session"),
        "scenario": entry.scenario,
        "turn": entry.turn,
        "status": entry.status,
        "fault": entry.fault,
        "events_sent": entry.events_sent,
        "events_total": entry.events_total,
        "duration": entry.duration,
        "left_early": entry.left_early,
        "left_at": entry.left_at,
        "finished": entry.finished,
    }


def _event(entry: Entry) -> bytes:
    return b"event: request\ndata: " + json.dumps(summary(entry)).encode() + b"\n\n"


class Feed:
    def __init__(self) -> None:
        self.listeners: set[asyncio.Queue[bytes]] = set()
        self.lost = 0  # events a slow listener did not get

    def publish(self, entry: Entry) -> None:
        if not self.listeners:
            return  # nobody watching: nothing encoded
        data = _event(entry)
        for queue in self.listeners:
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                self.lost += 1

    async def serve(self, request: web.Request, backlog: list[Entry]) -> web.StreamResponse:
        """Stream the feed to one listener until it leaves: the recent requests first."""
        response = web.StreamResponse(
            headers={
                "content-type": "text/event-stream",
                "cache-control": "no-cache",
                "x-accel-buffering": "no",
            }
        )
        await response.prepare(request)
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
        self.listeners.add(queue)
        try:
            for entry in backlog[-BACKLOG:]:
                await response.write(
                    b"event: request\ndata: " + json.dumps(summary(entry)).encode() + b"\n\n"
                )
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    data = b": keep-alive\n\n"
                await response.write(data)
        except ConnectionError:
            return response
        finally:
            self.listeners.discard(queue)
