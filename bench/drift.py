"""Timing accuracy: how late events arrive against their schedule, at several
concurrencies. A benchmark, not a test: it prints figures.

    python bench/drift.py [--streams 1,100,1000] [--chunks 50] [--interval 0.02]

Starts `mockserver serve` as its own process on 127.0.0.1 and reads the streams with
raw asyncio sockets (cheap per event), stamping each event as its blank line arrives.
Drift of event k = (arrival_k - arrival_0) - k * interval.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """
name: bench
timing: {{first: {first}s, interval: {interval}s}}
split: 1
stream:
  - text: "{text}"
"""


async def one_stream(port: int, body: bytes) -> tuple[float, list[float]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = time.perf_counter()
    writer.write(
        b"POST /s/bench/v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    arrivals: list[float] = []
    buffer = b""
    while True:
        data = await reader.read(65536)
        if not data:
            break
        now = time.perf_counter()
        buffer += data
        ends = buffer.count(b"}\n\n")  # JSON events completed so far
        arrivals.extend([now] * (ends - len(arrivals)))
    writer.close()
    return sent, arrivals


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(port: int, streams: int, chunks: int, interval: float, first: float) -> dict[str, float]:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}).encode()
    results = await asyncio.gather(*(one_stream(port, body) for _ in range(streams)), return_exceptions=True)
    drifts: list[float] = []
    starts: list[float] = []
    failed = 0
    for result in results:
        if isinstance(result, BaseException):
            failed += 1
            continue
        sent, arrivals = result
        # arrivals: role chunk, then one per content chunk, then finish
        content = arrivals[1 : 1 + chunks]
        if len(content) < chunks:
            failed += 1
            continue
        starts.append(content[0] - sent - first)
        drifts += [(at - content[0]) - k * interval for k, at in enumerate(content)]
    return {
        "streams": streams,
        "failed": failed,
        "drift_p50_ms": percentile(drifts, 50) * 1000 if drifts else float("nan"),
        "drift_p99_ms": percentile(drifts, 99) * 1000 if drifts else float("nan"),
        "drift_max_ms": max(drifts) * 1000 if drifts else float("nan"),
        "start_p50_ms": statistics.median(starts) * 1000 if starts else float("nan"),
        "start_p99_ms": percentile(starts, 99) * 1000 if starts else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", default="1,100,1000")
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--first", type=float, default=0.2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    (folder / "bench.yaml").write_text(
        SCENARIO.format(first=args.first, interval=args.interval, text="x" * args.chunks)
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", str(folder), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(re.findall(r"127\.0\.0\.1:(\d+)", server.stdout.readline())[0])
        print(
            f"{args.chunks} chunks, first at {args.first * 1000:.0f} ms, then every "
            f"{args.interval * 1000:.0f} ms"
        )
        print(
            f"{'streams':>8} {'failed':>7} {'drift p50':>10} {'p99':>8} {'max':>8} "
            f"{'start p50':>10} {'p99':>8}   (ms)"
        )
        for streams in (int(s) for s in args.streams.split(",")):
            r = asyncio.run(run(port, streams, args.chunks, args.interval, args.first))
            print(
                f"{r['streams']:>8.0f} {r['failed']:>7.0f} {r['drift_p50_ms']:>10.1f} "
                f"{r['drift_p99_ms']:>8.1f} {r['drift_max_ms']:>8.1f} {r['start_p50_ms']:>10.1f} "
                f"{r['start_p99_ms']:>8.1f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=5)


if __name__ == "__main__":
    main()
