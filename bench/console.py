"""What the console's live feed costs the server: 1,000 requests a minute against a
`mockserver serve` process, once with nobody watching and once with the console's
feed (`/_mock/events`) read the whole time; the server's CPU (its own user and
system time from /proc) in each, as a share of one core. A benchmark, not a test.

    python bench/console.py [--seconds 30] [--per-minute 1000]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

SCENARIO = """
name: steady
timing: {interval: 10ms}
split: words
stream:
  - text: "A steady stream of twelve words for the console to show, one by one."
"""
TICKS = 100  # clock ticks a second, as /proc counts CPU time (Linux's USER_HZ)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def run(seconds: float, per_minute: int, watch: bool) -> tuple[float, int]:
    """(the server's CPU share of one core, feed events read) over `seconds`."""
    folder = Path(tempfile.mkdtemp())
    (folder / "steady.yaml").write_text(SCENARIO)
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", str(folder), "--port", "0", "--loop", "asyncio"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
    assert found
    url = found.group(0)
    stop = threading.Event()
    events = [0]

    def follow() -> None:
        try:
            with httpx.Client(timeout=None) as client, client.stream("GET", url + "/_mock/events") as feed:
                for line in feed.iter_lines():
                    events[0] += line.startswith("data: ")
                    if stop.is_set():
                        return
        except httpx.HTTPError:
            return  # the server stopped: the run is over

    watcher = threading.Thread(target=follow, daemon=True) if watch else None
    if watcher is not None:
        watcher.start()
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    gap = 60.0 / per_minute
    try:
        with httpx.Client(timeout=10) as client:
            client.post(url + "/v1/chat/completions", json=body)  # warm up
            start_cpu, start = cpu_seconds(server.pid), time.monotonic()
            for n in range(int(seconds / gap)):
                time.sleep(max(0.0, start + n * gap - time.monotonic()))
                client.post(url + "/v1/chat/completions", json=body)
            used = cpu_seconds(server.pid) - start_cpu
            wall = time.monotonic() - start
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=10)
    return used / wall, events[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--per-minute", type=int, default=1000)
    args = parser.parse_args()
    alone, _ = run(args.seconds, args.per_minute, watch=False)
    watched, events = run(args.seconds, args.per_minute, watch=True)
    print(f"{args.per_minute} requests a minute for {args.seconds:g} s")
    print(f"server CPU, nobody watching:  {alone:6.1%} of a core")
    print(f"server CPU, the feed watched: {watched:6.1%} of a core ({events} feed events read)")
    print(f"the feed's cost:              {watched - alone:+6.1%} of a core (target: under 5 %)")


if __name__ == "__main__":
    main()
