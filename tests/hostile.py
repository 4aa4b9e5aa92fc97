"""Helpers for the hostile-input tests: a `mockserver serve` process of its own
(so the attacking client's work is not the server's), a raw-socket client that
sends anything and reads the answer cheaply, and how long the server stalls while
an attack runs, seen as the largest gap between a steady stream's events."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

TICKS = " ".join(f"t{i}" for i in range(300))
TICKER = f"""
name: ticker
timing: {{interval: 10ms}}
split: words
stream:
  - text: "{TICKS}"
"""

PROCESSES: dict[str, subprocess.Popen[str]] = {}  # the process behind each served URL


def rss_bytes(url: str) -> int:
    """The resident memory of the server process behind `url`."""
    status = Path(f"/proc/{PROCESSES[url].pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) * 1024


TICK = {"model": "m", "messages": [{"role": "user", "content": "tick"}], "stream": True}


@contextmanager
def serve_process(folder: Path, *flags: str, command: str = "serve") -> Iterator[str]:
    """`mockserver COMMAND FOLDER --port 0 FLAGS` as its own process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", command, str(folder), "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "MOCKSERVER_LOOP": "asyncio"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        PROCESSES[found.group(0)] = process
        yield found.group(0)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def post_raw(
    url: str, path: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, bytes]:
    """POST over a bare socket; (status, the first 64 KB of the answer). Reads the
    rest and drops it: a large answer costs this process almost nothing."""
    host, port = url.removeprefix("http://").split(":")
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
        head += f"{name}: {value}\r\n"
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        kept = b""
        while True:
            piece = sock.recv(1 << 16)
            if not piece:
                break
            if len(kept) < 1 << 16:
                kept += piece
    status = int(kept.split(b" ", 2)[1]) if kept.startswith(b"HTTP/") else 0
    return status, kept


def largest_gap_during(url: str, attack: Callable[[], Any]) -> tuple[float, Any]:
    """Play the ticker (an event every 10 ms for 3 s) while `attack()` runs; the
    largest gap between two of its events while the attack ran, and what the attack
    returned."""
    arrivals: list[float] = []
    started = threading.Event()

    def listen() -> None:
        with httpx.Client(timeout=30) as client:
            with client.stream("POST", url + "/s/ticker/v1/chat/completions", json=TICK) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        arrivals.append(time.monotonic())
                        started.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert started.wait(10)
    time.sleep(0.1)  # the ticker is under way
    begin = time.monotonic()
    result = attack()
    end = time.monotonic()
    listener.join(timeout=30)
    assert end < arrivals[-1], "the attack outlasted the ticker: nothing was measured at its end"
    during = [t for t in arrivals if begin - 0.05 <= t <= end + 0.05]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    return max(gaps), result


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()
