"""SIGTERM with 500 open streams: the server exits within a second, every client
sees its connection close, and nothing is printed but the summary."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


async def open_streams(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    body = b'{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}'
    request = (
        b"POST /s/stall-forever/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )

    async def one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await reader.readuntil(b"Thinking")  # the first event is in: the stream is open
        return reader, writer

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    rest = b""
    try:
        while piece := await reader.read(4096):
            rest += piece
    except ConnectionError:
        pass
    return rest


def test_sigterm_with_500_open_streams() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "scenarios/", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    port = int(re.findall(r"127\.0\.0\.1:(\d+)", process.stdout.readline())[0])

    async def scenario() -> tuple[float, list[bytes]]:
        streams = await open_streams(port, 500)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        rests = await asyncio.wait_for(asyncio.gather(*(until_closed(r) for r, _ in streams)), 5)
        for _, writer in streams:
            writer.close()
        return time.monotonic() - started, rests

    took, rests = asyncio.run(scenario())
    process.wait(timeout=5)
    assert took < 1.0, f"clients saw the close after {took:.2f}s"
    assert process.returncode == 0
    assert all(not rest.endswith(b"0\r\n\r\n") for rest in rests)  # cut, not finished
    err = process.stderr.read()
    assert "Traceback" not in err and "Error" not in err
    summary = [line for line in err.splitlines() if line.startswith("mockserver stopped:")]
    assert summary and summary[-1].startswith("mockserver stopped: 500 requests")
    assert "FAIL  keepalive: Each of the 500 requests opened a connection of its own." in err  # the verdicts
    process.stdout.close()
    process.stderr.close()
