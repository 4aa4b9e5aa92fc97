"""The raw floor: the same stream as bench/floor.py, served with no HTTP library at
all — an asyncio Protocol that reads a request head and its Content-Length body and
writes the pre-rendered status line, headers and chunks on loop-clock deadlines.
Not a server anyone should use (no keep-alive, no pipelining, no limits): it shows
what aiohttp's own request machinery costs, against the floor, in the same run.

    python bench/raw_floor.py SCENARIO_FILE NAME [--api chat]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from event_loop import runner

from mockserver.render import APIS, plan_response
from mockserver.render.api import sample
from mockserver.scenario import load_scenarios


def build(path: str, name: str, api_name: str) -> tuple[bytes, list[tuple[float, bytes]], bool]:
    """(status line and headers, [(due, HTTP chunk)], whether it stalls at the end)."""
    scenario = next(s for s in load_scenarios([path]) if s.name == name)
    api = APIS[api_name]
    plan = plan_response(
        api, scenario.responses[0], sample(api, "bench", "hi", stream=True), scenario=name, number=0, seed=0
    )
    head = f"HTTP/1.1 {plan.status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in plan.headers)
    head += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    chunks = [(w.at, b"%x\r\n%s\r\n" % (len(w.data), w.data)) for w in plan.writes]
    return head.encode(), chunks, plan.ending == "stall"


class Stream(asyncio.Protocol):
    def __init__(self, head: bytes, chunks: list[tuple[float, bytes]], stall: bool) -> None:
        self.head, self.chunks, self.stall = head, chunks, stall
        self.buffer = b""
        self.transport: Any = None
        self.answered = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = 0
        for line in self.buffer[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        self.answered = True
        self.play()

    def play(self) -> None:
        loop = asyncio.get_running_loop()
        transport = self.transport
        assert transport is not None
        start = loop.time()
        pending = list(reversed(self.chunks))
        first = [self.head]
        while pending and pending[-1][0] <= 0:
            first.append(pending.pop()[1])
        transport.write(b"".join(first))

        def next_write() -> None:
            if transport.is_closing():
                return
            transport.write(pending.pop()[1])
            schedule()

        def schedule() -> None:
            if pending:
                loop.call_at(start + pending[-1][0], next_write)
            elif not self.stall:
                transport.write(b"0\r\n\r\n")
                transport.close()

        schedule()


async def serve(head: bytes, chunks: list[tuple[float, bytes]], stall: bool) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Stream(head, chunks, stall), "127.0.0.1", 0, backlog=2048)
    print(f"raw floor on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("name")
    parser.add_argument("--api", default="chat")
    args = parser.parse_args()
    run = runner()
    try:
        run(serve(*build(args.path, args.name, args.api)))
    except KeyboardInterrupt:
        pass
