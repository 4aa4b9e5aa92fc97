"""Soak: a steady rate of requests under seeded chaos for minutes, watching memory
and what the server holds. A benchmark, not a test.

    python bench/soak.py [--seconds 300] [--rate 40] [--chaos 0.3]

Starts `mockserver serve scenarios/` as its own process with chaos on, sends
requests at a steady rate (streamed and not, several APIs, some clients leaving
early), and reports requests served, faults injected, RSS at start and end, and the
open streams, tasks and files once the load stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOURNAL = 2000  # entries the soaked server keeps
SCENARIOS = [
    "hello-stream",
    "weather-tool-call",
    "parallel-tool-calls",
    "fake-paragraph",
    "thinking-then-answer",
    "drop-after-third-chunk",
    "error-mid-stream",
    "byte-level-chaos",
    None,
]
APIS = {
    "chat": ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "weather?"}]}),
    "responses": ("/v1/responses", {"model": "m", "input": "weather?"}),
    "anthropic": (
        "/v1/messages",
        {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "x"}]},
    ),
}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def http_json(port: int, method: str, path: str) -> dict[str, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return dict(json.loads(data.split(b"\r\n\r\n", 1)[1]))


async def one_request(port: int, rng: random.Random, outcomes: dict[str, int]) -> None:
    scenario = rng.choice(SCENARIOS)
    api = rng.choice(list(APIS))
    path, body = APIS[api]
    body = {**body, "stream": rng.random() < 0.8}
    payload = json.dumps(body).encode()
    prefix = f"/s/{scenario}" if scenario else ""
    leave_after = rng.randint(1, 10) if rng.random() < 0.2 else None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        outcomes["connect failed"] = outcomes.get("connect failed", 0) + 1
        return
    try:
        writer.write(
            f"POST {prefix}{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        events = 0
        async with asyncio.timeout(8):  # a chaos stall is met by this client timeout
            while data := await reader.read(65536):
                events += data.count(b"\n\n")
                if leave_after is not None and events >= leave_after:
                    outcomes["left early"] = outcomes.get("left early", 0) + 1
                    break
        outcomes["done"] = outcomes.get("done", 0) + 1
    except (TimeoutError, OSError):
        outcomes["timed out or cut"] = outcomes.get("timed out or cut", 0) + 1
    finally:
        writer.transport.abort()


async def soak(port: int, pid: int, seconds: float, rate: float, journal: int) -> None:
    baseline = await http_json(port, "GET", "/_mock/stats")
    # memory is compared from when the journal (bounded) is full: from then on it is flat
    warm_up = journal / rate + 10
    rng = random.Random(7)
    outcomes: dict[str, int] = {}
    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    sent = 0
    rss_start = None
    next_report = 30.0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            task = asyncio.ensure_future(one_request(port, rng, outcomes))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        if rss_start is None and elapsed > warm_up:
            rss_start = rss_kb(pid)  # after the warm-up: imports, caches, a full journal
        if elapsed > next_report:
            print(
                f"  {elapsed:5.0f}s  {sent} requests sent, RSS {rss_kb(pid) / 1024:.1f} MB, "
                f"{len(tasks)} in flight",
                flush=True,
            )
            next_report += 30
        await asyncio.sleep(0.01)
    if tasks:
        await asyncio.wait(tasks, timeout=15)
    await asyncio.sleep(1.0)
    rss_end = rss_kb(pid)
    stats = await http_json(port, "GET", "/_mock/stats")
    chaos = await http_json(port, "GET", "/_mock/chaos")
    injected = dict(chaos["injected"])  # type: ignore[call-overload]
    served = dict(stats["journal"])  # type: ignore[call-overload]
    print(
        f"\nsoak: {seconds:.0f} s at {rate:g} requests/s, chaos rate {chaos['rate']} (seed {chaos['seed']})"
    )
    print(f"requests sent        {sent}")
    print(f"client outcomes      {dict(sorted(outcomes.items()))}")
    print(f"journal              {served['size']} kept, {served['dropped']} dropped (bounded)")
    print(f"faults injected      {sum(injected.values())}: {dict(sorted(injected.items()))}")
    assert rss_start is not None
    growth = (rss_end - rss_start) / rss_start * 100
    print(
        f"RSS                  {rss_start / 1024:.1f} MB after warm-up ({warm_up:.0f} s), "
        f"{rss_end / 1024:.1f} MB at the end "
        f"({growth:+.1f}%)"
    )
    print(
        f"left behind          {stats['open_streams']} open streams, {stats['tasks']} tasks, "
        f"{stats['timers']} timers, {stats['open_files']} open files (before the load: "
        f"{baseline['open_streams']}, {baseline['tasks']}, {baseline['timers']}, {baseline['open_files']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=40, help="requests per second")
    parser.add_argument("--chaos", type=float, default=0.3)
    args = parser.parse_args()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            str(ROOT / "scenarios"),
            "--port",
            "0",
            "--chaos",
            str(args.chaos),
            "--chaos-seed",
            "1",
            "--time-scale",
            "0.3",
            "--journal-size",
            "2000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(re.findall(r"127\.0\.0\.1:(\d+)", server.stdout.readline())[0])
        asyncio.run(soak(port, server.pid, args.seconds, args.rate, JOURNAL))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
