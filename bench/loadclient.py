"""A cheap load client: raw asyncio sockets, a timestamp at each SSE event boundary.

Per stream it records when the request went out and when each event's closing
blank line arrived (an event split across reads counts when its end arrives).
No HTTP library, no JSON parsing: the client must cost far less than the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field


@dataclass
class StreamResult:
    sent: float  # perf_counter when the request was written
    events: list[float] = field(default_factory=list)  # arrival time of each event's end
    error: str | None = None
    complete: bool = False  # the chunked terminator arrived


def request_bytes(path: str, body: dict[str, object]) -> bytes:
    payload = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload


async def one_stream(
    port: int,
    request: bytes,
    *,
    stop_after: int | None = None,
    hold: asyncio.Event | None = None,
    held: list[int] | None = None,
) -> StreamResult:
    """Play one request. With stop_after, stop reading after that many events and
    (if `hold` is given) keep the connection open until it is set, counting
    itself in `held[0]` meanwhile."""
    clock = time.perf_counter
    result = StreamResult(sent=0.0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        result.error = f"connect: {exc}"
        return result
    try:
        result.sent = clock()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            result.error = head.split(b"\r\n", 1)[0].decode()
            return result
        events = result.events
        previous_newline = False
        while True:
            data = await reader.read(262144)
            if not data:
                break
            now = clock()
            count = data.count(b"\n\n") + (1 if previous_newline and data[:1] == b"\n" else 0)
            previous_newline = data[-1:] == b"\n"
            if count:
                events.extend([now] * count)
            if data.endswith(b"0\r\n\r\n"):
                result.complete = True
            if stop_after is not None and len(events) >= stop_after:
                if hold is not None:
                    if held is not None:
                        held[0] += 1
                    await hold.wait()
                break
    except (OSError, asyncio.IncompleteReadError) as exc:
        result.error = type(exc).__name__
    finally:
        writer.close()
    return result


async def many(
    port: int,
    request: bytes,
    count: int,
    *,
    stop_after: int | None = None,
    hold: asyncio.Event | None = None,
    held: list[int] | None = None,
) -> list[StreamResult]:
    streams = (one_stream(port, request, stop_after=stop_after, hold=hold, held=held) for _ in range(count))
    return list(await asyncio.gather(*streams))
