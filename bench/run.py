"""mockserver's benchmarks, side by side with the aiohttp floor (bench/floor.py).

    python bench/run.py [--quick] [--shapes A,R,B,C,D,E,F,G] [--runs 3] [--streams 1,100,1000]

Shapes:
  A  50 text chunks, first at 200 ms, then every 20 ms; 1, 100 and 1,000 streams at once
  R  1,000 requests at once, each one event after 200 ms (what a request costs)
  B  20,000 chunks with no delay on one stream (throughput)
  C  10,000 streams that stall after the first event (memory per open stream)
  D  the pytest fixture: first use in a fresh process, and reset
  E  tool-call heavy streams on Chat, Anthropic and Responses, 100 at once (renderer cost)
  F  A at 1,000 streams with the console's feed and the verdicts watched (their added CPU)
  G  the most A streams one process holds with drift p99 <= 20 ms

Servers run as their own processes on 127.0.0.1; the load client (bench/loadclient.py)
shares the machine. A and R also run the raw floor (bench/raw_floor.py: the floor's
bytes from a bare asyncio Protocol, no HTTP library), so the table shows how much of
the floor is aiohttp's own request machinery and how much the kernel's.
Drift of event k = (arrival_k - arrival_first) - scheduled offset.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadclient import StreamResult, many, request_bytes

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")

SCENARIOS = {
    "a": 'timing: {{first: 200ms, interval: 20ms}}\nsplit: words\nstream:\n  - text: "{}"\n'.format(
        " ".join(f"w{i}" for i in range(50))
    ),
    "b": 'split: 1\nstream:\n  - text: "%s"\n' % ("x" * 20_000),
    "c": "stream:\n  - text: first\n  - stall\n",
    "r": "timing: {first: 200ms}\nstream:\n  - text: hi\n",
    "e": (
        "timing: {first: 100ms, interval: 10ms}\nsplit: words\nstream:\n"
        '  - text: "Let me look that up for you right now."\n'
        "  - tool_call: {name: search, pieces: 40,\n"
        "      arguments: {query: weather in Paris, days: 5, units: metric}}\n"
    ),
}
BODIES = {
    "chat": (
        "/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
    ),
    "anthropic": (
        "/v1/messages",
        {"model": "m", "max_tokens": 99, "messages": [{"role": "user", "content": "x"}], "stream": True},
    ),
    "responses": ("/v1/responses", {"model": "m", "input": "x", "stream": True}),
}


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    port: int

    def cpu(self) -> float:
        return sum(self.times())

    def times(self) -> tuple[float, float]:
        """CPU seconds so far: (in the process, in the kernel for it)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / TICKS, int(fields[12]) / TICKS

    def rss_kb(self) -> int:
        return _status_kb(self.process.pid, "VmRSS")

    def peak_kb(self) -> int:
        return _status_kb(self.process.pid, "VmHWM")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def start(kind: str, folder: Path, shape: str, api: str = "chat") -> Server:
    if kind == "mockserver":
        command = [sys.executable, "-m", "mockserver", "serve", str(folder), "--port", "0"]
    else:  # "floor", or "raw": the floor without aiohttp (bench/raw_floor.py)
        script = HERE / ("raw_floor.py" if kind == "raw" else "floor.py")
        command = [sys.executable, str(script), str(folder / f"{shape}.yaml"), shape, "--api", api]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    port = int(re.findall(r"127\.0\.0\.1:(\d+)", line)[0])
    return Server(kind, process, port)


def load(
    kind: str, folder: Path, shape: str, api: str, request: bytes, count: int
) -> tuple[list[StreamResult], float, float]:
    """`count` streams at once against a fresh server: their results, its CPU seconds,
    and how many of those were the kernel's (mostly the socket writes)."""
    server = start(kind, folder, shape, api)
    try:
        user, kernel = server.times()
        results = asyncio.run(many(server.port, request, count))
        user_after, kernel_after = server.times()
        return results, user_after - user + kernel_after - kernel, kernel_after - kernel
    finally:
        server.stop()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def streamed(results: list[StreamResult], first_event: int, count: int, first: float, interval: float):
    """(ok, failed, drifts, starts) over the content events [first_event, first_event+count)."""
    drifts: list[float] = []
    starts: list[float] = []
    ok = failed = 0
    for result in results:
        events = result.events[first_event : first_event + count]
        if result.error or len(events) < count:
            failed += 1
            continue
        ok += 1
        starts.append(events[0] - result.sent - first)
        drifts += [(at - events[0]) - k * interval for k, at in enumerate(events)]
    return ok, failed, drifts, starts


def shape_a_figures(results: list[StreamResult], used: float) -> tuple[int, list[float], list[float], float]:
    """Shape A's figures of a run: (failed, drifts, starts, CPU µs per event) from its
    streams and the server's CPU seconds."""
    _, failed, drifts, starts = streamed(results, 1, 50, 0.2, 0.02)
    return failed, drifts, starts, used / max(sum(len(r.events) for r in results), 1) * 1e6


ROWS: list[list[str]] = []


def row(*cells: object) -> list[str]:
    ROWS.append([str(c) for c in cells])
    print("  ".join(f"{c:>12}" for c in ROWS[-1]), flush=True)
    return ROWS[-1]


def ratios(floor: list[str], mock: list[str], skip: int) -> None:
    """mockserver's figures over the floor's, column by column (after `skip` labels)."""
    cells: list[str] = ["× floor"] + [""] * (skip - 1)
    for f, m in zip(floor[skip:], mock[skip:], strict=True):
        try:
            a, b = float(f.replace(",", "").split()[0]), float(m.replace(",", "").split()[0])
        except ValueError:
            cells.append("")
            continue
        cells.append(f"{b / a:.2f}" if a and abs(a) > 1e-9 else "")
    print("  ".join(f"{c:>12}" for c in cells), flush=True)


def side_by_side(printed: list[list[str]], skip: int) -> None:
    """The rows of SIDE_BY_SIDE's servers: floor, mockserver, their ratios, then raw."""
    floor, mock, raw = printed
    ratios(row(*floor), row(*mock), skip)
    row(*raw)


# Shapes A and R also run the raw floor: what the floor costs without aiohttp's
# request machinery, so the part of the floor that is aiohttp's own is in the table.
SIDE_BY_SIDE = ("floor", "mockserver", "raw")


def turns(run: int) -> tuple[str, ...]:
    """The servers in the order they run in run `run`: each goes first in turn, so
    none always meets a cooler machine."""
    shift = run % len(SIDE_BY_SIDE)
    return SIDE_BY_SIDE[shift:] + SIDE_BY_SIDE[:shift]


def shape_a(folder: Path, concurrencies: list[int], runs: int) -> None:
    print(f"\nA: 50 chunks, first at 200 ms then every 20 ms (median of {runs} runs)", flush=True)
    row(
        "server",
        "streams",
        "failed",
        "drift p50",
        "drift p99",
        "drift max",
        "start p50",
        "start p99",
        "CPU s",
        "CPU µs/ev",
    )
    path, body = BODIES["chat"]
    request = request_bytes("/s/a" + path, body)
    for concurrency in concurrencies:
        figures: dict[str, list[list[float]]] = {kind: [] for kind in SIDE_BY_SIDE}
        in_kernel: dict[str, list[float]] = {kind: [] for kind in SIDE_BY_SIDE}
        for run in range(runs):
            for kind in turns(run):
                results, used, kernel = load(kind, folder, "a", "chat", request, concurrency)
                failed, drifts, starts, per_event = shape_a_figures(results, used)
                in_kernel[kind].append(per_event * kernel / used if used else 0.0)
                figures[kind].append(
                    [
                        failed,
                        pct(drifts, 50) * 1e3,
                        pct(drifts, 99) * 1e3,
                        max(drifts, default=float("nan")) * 1e3,
                        pct(starts, 50) * 1e3,
                        pct(starts, 99) * 1e3,
                        used,
                        per_event,
                    ]
                )
        printed = []
        for kind, rows in figures.items():
            failed = max(r[0] for r in rows)  # the worst run's failures, not their median
            medians = [statistics.median(r[i] for r in rows) for i in range(1, 8)]
            printed.append(
                [
                    kind,
                    str(concurrency),
                    str(int(failed)),
                    *(f"{v:.1f}" for v in medians[:5]),
                    f"{medians[5]:.2f}",
                    f"{medians[6]:.1f}",
                ]
            )
        side_by_side(printed, 3)
        if concurrency >= 100:  # fewer streams use too few of the kernel's 10 ms ticks to split
            print(
                "   of CPU µs/ev, the kernel's (socket writes): floor {:.1f}, mockserver {:.1f},"
                " raw {:.1f}".format(*(statistics.median(in_kernel[kind]) for kind in SIDE_BY_SIDE)),
                flush=True,
            )


def shape_r(folder: Path, runs: int) -> None:
    print(
        f"\nR: what a request costs: 1,000 at once, each one event after 200 ms (median of {runs} runs)",
        flush=True,
    )
    row("server", "requests", "failed", "start p50", "start p99", "µs/request", "kernel's")
    path, body = BODIES["chat"]
    request = request_bytes("/s/r" + path, body)
    figures: dict[str, list[tuple[int, float, float, float, float]]] = {kind: [] for kind in SIDE_BY_SIDE}
    for run in range(runs):
        for kind in turns(run):
            results, used, kernel = load(kind, folder, "r", "chat", request, 1000)
            failed = sum(1 for r in results if r.error or len(r.events) < 2)
            starts = [r.events[1] - r.sent - 0.2 for r in results if len(r.events) > 1]
            figures[kind].append((failed, pct(starts, 50), pct(starts, 99), used / 1000, kernel / 1000))
    printed = []
    for kind, rows in figures.items():
        medians = [statistics.median(r[i] for r in rows) for i in range(1, 5)]
        printed.append(
            [
                kind,
                "1000",
                str(max(r[0] for r in rows)),
                f"{medians[0] * 1e3:.1f}",
                f"{medians[1] * 1e3:.1f}",
                f"{medians[2] * 1e6:.0f}",
                f"{medians[3] * 1e6:.0f}",
            ]
        )
    side_by_side(printed, 3)


def shape_b(folder: Path) -> None:
    print("\nB: 20,000 chunks, no delay, one stream (cold: a fresh server's first request)", flush=True)
    row("server", "events", "seconds", "events/s", "CPU s", "cold 1st ms", "cold ev/s", "RSS rest MB")
    path, body = BODIES["chat"]
    request = request_bytes("/s/b" + path, body)
    printed = []
    for kind in ("floor", "mockserver"):
        server = start(kind, folder, "b")
        try:
            rest = server.rss_kb() / 1024  # at rest: started, nothing asked yet
            (cold,) = asyncio.run(many(server.port, request, 1))  # the first request, cold
            cold_first = (cold.events[0] - cold.sent) * 1000
            cold_rate = len(cold.events) / (cold.events[-1] - cold.sent)
            best = None
            for _ in range(3):
                before = server.cpu()
                (result,) = asyncio.run(many(server.port, request, 1))
                took = result.events[-1] - result.sent
                if best is None or took < best[0]:
                    best = (took, len(result.events), server.cpu() - before)
        finally:
            server.stop()
        assert best is not None
        took, events, used = best
        printed.append(
            row(
                kind,
                events,
                f"{took:.3f}",
                f"{events / took:,.0f}",
                f"{used:.2f}",
                f"{cold_first:.1f}",
                f"{cold_rate:,.0f}",
                f"{rest:.1f}",
            )
        )
    ratios(printed[0], printed[1], 2)


def shape_c(folder: Path, streams: int) -> None:
    print(f"\nC: {streams:,} streams stalled after their first event", flush=True)
    row("server", "streams", "failed", "RSS before", "RSS after", "KB/stream", "peak RSS MB")
    path, body = BODIES["chat"]
    request = request_bytes("/s/c" + path, body)
    printed = []
    for kind in ("floor", "mockserver"):
        server = start(kind, folder, "c")
        try:
            asyncio.run(many(server.port, request, 10, stop_after=2))  # warm up
            time.sleep(0.3)
            before = server.rss_kb()

            async def hold_open(server: Server = server) -> tuple[list[StreamResult], int]:
                release = asyncio.Event()
                held = [0]
                task = asyncio.ensure_future(
                    many(server.port, request, streams, stop_after=2, hold=release, held=held)
                )
                deadline = time.monotonic() + 120
                while held[0] < streams and not task.done() and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)  # let the server settle
                after = server.rss_kb()
                release.set()
                return await task, after

            results, after = asyncio.run(hold_open())
        finally:
            peak = server.peak_kb()
            server.stop()
        failed = sum(1 for r in results if r.error or len(r.events) < 2)
        printed.append(
            row(
                kind,
                streams,
                failed,
                f"{before / 1024:.1f} MB",
                f"{after / 1024:.1f} MB",
                f"{(after - before) / streams:.1f}",
                f"{peak / 1024:.1f}",
            )
        )
    ratios(printed[0], printed[1], 3)


# The floor of first use: aiohttp alone, imported, serving on a thread, answering a GET.
FLOOR_FIRST_USE = (
    "import time, socket, threading, asyncio; t=time.perf_counter()\n"
    "from aiohttp import web\n"
    "ready = threading.Event(); port = []\n"
    "async def health(request): return web.json_response({'ok': True})\n"
    "def serve():\n"
    "    async def main():\n"
    "        app = web.Application(); app.router.add_get('/_mock/health', health)\n"
    "        runner = web.AppRunner(app); await runner.setup()\n"
    "        site = web.TCPSite(runner, '127.0.0.1', 0); await site.start()\n"
    "        port.append(runner.addresses[0][1]); ready.set(); await asyncio.Event().wait()\n"
    "    asyncio.run(main())\n"
    "threading.Thread(target=serve, daemon=True).start(); ready.wait()\n"
    "c = socket.create_connection(('127.0.0.1', port[0]))\n"
    "c.sendall(b'GET /_mock/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
    "while c.recv(65536): pass\n"
    "print(time.perf_counter() - t, 0.0)\n"
)
MOCKSERVER_FIRST_USE = (
    "import time, socket; t=time.perf_counter()\n"
    "from mockserver import MockServer\n"
    "s = MockServer().start()\n"
    "c = socket.create_connection(('127.0.0.1', s.port))\n"
    "c.sendall(b'GET /_mock/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
    "while c.recv(65536): pass\n"
    "first = time.perf_counter() - t\n"
    "t = time.perf_counter()\n"
    "for _ in range(1000): s.reset()\n"
    "print(first, (time.perf_counter() - t) / 1000)\n"
    "s.stop()\n"
)


def shape_d() -> None:
    print("\nD: the pytest fixture (first use in a fresh process: import, start, one request)", flush=True)
    row("server", "first use ms", "reset ms")
    # as an installed package runs: its bytecode written once (some machines set
    # PYTHONDONTWRITEBYTECODE, which would make every run compile every module)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    printed = []
    for kind, code in (("floor", FLOOR_FIRST_USE), ("mockserver", MOCKSERVER_FIRST_USE)):
        subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)  # warm
        firsts, resets = [], []
        for _ in range(5):
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
            ).stdout
            first, reset = map(float, out.split())
            firsts.append(first)
            resets.append(reset)
        printed.append(
            row(kind, f"{statistics.median(firsts) * 1e3:.0f}", f"{statistics.median(resets) * 1e3:.3f}")
        )
    ratios(printed[0], printed[1], 1)


def shape_e(folder: Path) -> None:
    print("\nE: tool-call heavy streams, 100 at once", flush=True)
    row(
        "api", "server", "failed", "events", "end late p50", "end late p99", "start p99", "CPU s", "CPU µs/ev"
    )
    for api, (path, body) in BODIES.items():
        request = request_bytes("/s/e" + path, body)
        printed = []
        for kind in ("floor", "mockserver"):
            results, used, _ = load(kind, folder, "e", api, request, 100)
            failed = sum(1 for r in results if r.error or not r.complete)
            events = sum(len(r.events) for r in results)
            starts = [r.events[0] - r.sent - 0.1 for r in results if r.events]
            # the last event's lateness: its span from the first against the 47 scheduled gaps
            late = [(r.events[-1] - r.events[0]) - 0.47 for r in results if len(r.events) > 1]
            printed.append(
                row(
                    api,
                    kind,
                    failed,
                    events,
                    f"{pct(late, 50) * 1e3:.1f}",
                    f"{pct(late, 99) * 1e3:.1f}",
                    f"{pct(starts, 99) * 1e3:.1f}",
                    f"{used:.2f}",
                    f"{used / max(events, 1) * 1e6:.1f}",
                )
            )
        ratios(printed[0], printed[1], 4)


def shape_f(folder: Path, runs: int) -> None:
    print(
        "\nF: what watching costs: A at 1,000 streams, the console's feed read and the verdicts", flush=True
    )
    print(
        f"   asked for every 100 ms throughout, against the same unwatched (median of {runs} runs)",
        flush=True,
    )
    row("mockserver", "failed", "drift p99", "CPU s", "CPU µs/ev")
    path, body = BODIES["chat"]
    request = request_bytes("/s/a" + path, body)
    figures: dict[bool, list[tuple[int, float, float, float]]] = {False: [], True: []}
    for run in range(runs):
        for watched in (False, True) if run % 2 == 0 else (True, False):
            figures[watched].append(_watched_run(folder, request, watched))
    printed = []
    for watched, rows in figures.items():
        failed = max(r[0] for r in rows)
        medians = [statistics.median(r[i] for r in rows) for i in range(1, 4)]
        printed.append(
            row(
                "watched" if watched else "unwatched",
                failed,
                f"{medians[0]:.1f}",
                f"{medians[1]:.2f}",
                f"{medians[2]:.1f}",
            )
        )
    added = float(printed[1][-1]) - float(printed[0][-1])
    print(f"   added by watching: {added:.1f} µs of server CPU per event", flush=True)


def _watched_run(folder: Path, request: bytes, watched: bool) -> tuple[int, float, float, float]:
    """(failed, drift p99 ms, CPU s, CPU µs/event) of one shape-A run at 1,000 streams."""
    server = start("mockserver", folder, "a")
    stop = threading.Event()
    watchers = (
        [
            threading.Thread(target=_read_feed, args=(server.port, stop)),
            threading.Thread(target=_ask_verdicts, args=(server.port, stop)),
        ]
        if watched
        else []
    )
    try:
        for watcher in watchers:
            watcher.start()
        time.sleep(0.5)
        before = server.cpu()
        results = asyncio.run(many(server.port, request, 1000))
        used = server.cpu() - before
    finally:
        stop.set()
        for watcher in watchers:
            watcher.join(10)
        server.stop()
    failed, drifts, _, per_event = shape_a_figures(results, used)
    return failed, pct(drifts, 99) * 1e3, used, per_event


def _read_feed(port: int, stop: threading.Event) -> None:
    """Read the console's live feed until `stop`, as an open console tab does."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /_mock/events HTTP/1.1\r\nHost: bench\r\n\r\n")
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                if not sock.recv(65536):
                    return
            except TimeoutError:
                continue


def _ask_verdicts(port: int, stop: threading.Event) -> None:
    """GET /_mock/verdicts every 100 ms until `stop`, as a watching test or console does."""
    while not stop.wait(0.1):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /_mock/verdicts HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass


def shape_g(folder: Path) -> None:
    print(
        "\nG: the most shape-A streams one process holds with drift p99 <= 20 ms and none failed", flush=True
    )
    row("server", "streams", "failed", "drift p99", "CPU µs/ev")
    path, body = BODIES["chat"]
    request = request_bytes("/s/a" + path, body)
    held = {}
    for kind in ("floor", "mockserver"):
        held[kind] = 0
        for count in CAPACITY_STEPS:
            results, used, _ = load(kind, folder, "a", "chat", request, count)
            failed, drifts, _, per_event = shape_a_figures(results, used)
            p99 = pct(drifts, 99) * 1e3
            row(kind, count, failed, f"{p99:.1f}", f"{per_event:.1f}")
            if failed or p99 > 20:
                break
            held[kind] = count
    print(
        f"   holds: floor {held['floor']:,}, mockserver {held['mockserver']:,}"
        " (the load client shares the machine)"
    )


CAPACITY_STEPS = (500, 750, 1000, 1250, 1500, 2000, 3000, 4000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default="A,R,B,C,D,E,F,G")
    parser.add_argument("--quick", action="store_true", help="smaller runs (A up to 100, C 1,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of shape A whose medians are shown")
    parser.add_argument("--streams", help="shape A's stream counts, e.g. 1000 (default 1,100,1000)")
    args = parser.parse_args()
    shapes = set(args.shapes.upper().split(","))
    folder = Path(tempfile.mkdtemp(prefix="mockserver-bench-"))
    for name, text in SCENARIOS.items():
        (folder / f"{name}.yaml").write_text(text)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    if "A" in shapes:
        counts = [int(n) for n in args.streams.split(",")] if args.streams else None
        shape_a(folder, counts or ([1, 100] if args.quick else [1, 100, 1000]), args.runs)
    if "R" in shapes:
        shape_r(folder, args.runs)
    if "B" in shapes:
        shape_b(folder)
    if "C" in shapes:
        shape_c(folder, 1000 if args.quick else 10_000)
    if "D" in shapes:
        shape_d()
    if "E" in shapes:
        shape_e(folder)
    if "F" in shapes:
        shape_f(folder, args.runs)
    if "G" in shapes:
        shape_g(folder)


if __name__ == "__main__":
    main()
