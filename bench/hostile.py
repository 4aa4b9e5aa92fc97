"""Hostile soak: the same steady, chaotic traffic as bench/soak.py, twice on fresh
servers, once clean and once with attacks mixed in at a low rate; drift of a probe
stream and the server's memory must hold within 10 % of the clean run. Then each
attack alone, with the largest gap it causes in a steady stream. A benchmark, not
a test.

    python bench/hostile.py [--seconds 90] [--rate 40]

The attacks are those the hostile-input tests refuse or bound (tests/test_hostile_*):
a tool schema asking for huge arrays, embeddings of 2,000 inputs at 3,072
dimensions, a catastrophic regex, a YAML alias bomb, a 4 MB body, JSON nested a
thousand deep, a cross-origin scenario post, an admin body that drips.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak import one_request, rss_kb

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
name: probe
chaos: false
timing: {{interval: 10ms}}
split: words
stream:
  - text: "{}"
""".format(" ".join(f"p{i}" for i in range(300)))
EVIL = 'name: evil\nchaos: false\nmatch: {text: "^(a+)+$"}\nstream: [{text: matched}]\n'
INTERVAL = 0.010
ATTACK_EVERY = 3.0  # seconds between two attacks in the hostile soak


def _post(path: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


_NESTED = {"type": "array", "minItems": 200_000, "items": {"type": "array", "minItems": 200_000}}
_TOOL = {
    "type": "function",
    "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": _NESTED}}},
}
_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10) if prev else ', '.join(['x'] * 10)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=False)
)
ATTACKS: dict[str, bytes] = {
    "huge tool schema": _post(
        "/v1/chat/completions",
        _json(
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "tools": [_TOOL],
                "tool_choice": "required",
            }
        ),
    ),
    "embeddings 2000 x 3072": _post(
        "/v1/embeddings",
        _json(
            {"model": "text-embedding-3-large", "input": [f"t {i}" for i in range(2000)], "dimensions": 3072}
        ),
    ),
    "catastrophic regex": _post(
        "/v1/chat/completions",
        _json({"model": "m", "messages": [{"role": "user", "content": "a" * 20_000 + "b"}]}),
    ),
    "YAML alias bomb": _post("/_mock/scenarios", _BOMB.encode(), "application/yaml"),
    "4 MB body": _post(
        "/v1/chat/completions",
        _json({"model": "m", "messages": [{"role": "user", "content": "x" * 4_000_000}]}),
    ),
    "JSON 1000 deep": _post(
        "/v1/chat/completions", b'{"model":"m","messages":' + b"[" * 1000 + b"]" * 1000 + b"}"
    ),
    "cross-origin post": _post(
        "/_mock/scenarios",
        b"name: hijack\nstream: [{text: owned}]\n",
        "text/plain",
        "Origin: https://evil.example\r\n",
    ),
}


async def attack_from_elsewhere(port: int, name: str) -> None:
    """One attack, made by a process of its own: reading a 130 MB reply must not
    cost this process, whose probe streams measure the server."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--attack", name, "--port", str(port), stdout=asyncio.subprocess.DEVNULL
    )
    await process.wait()


async def attack(port: int, request: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        async with asyncio.timeout(30):
            while await reader.read(1 << 20):
                pass
    except (TimeoutError, OSError):
        pass
    finally:
        writer.transport.abort()


async def drip(port: int) -> None:
    """An admin body a byte at a time: the server cuts it off at its client timeout."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answered = asyncio.ensure_future(reader.read())  # the server's 408, then its close
    try:
        writer.write(
            b"POST /_mock/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\n"
            b"Content-Length: 1000\r\n\r\n"
        )
        for _ in range(300):
            await asyncio.sleep(0.05)
            if answered.done():
                break
            writer.write(b"#")
    except OSError:
        pass
    finally:
        answered.cancel()
        writer.transport.abort()


async def probe(port: int) -> list[float]:
    """One probe stream: each event's lateness against the schedule its first event set."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = _json({"model": "m", "messages": [{"role": "user", "content": "p"}], "stream": True})
    writer.write(_post("/s/probe/v1/chat/completions", body))
    arrivals: list[float] = []
    buffer = b""
    try:
        async with asyncio.timeout(20):
            while data := await reader.read(65536):
                now = time.perf_counter()
                buffer += data
                arrivals += [now] * buffer.count(b"\n\n")
                buffer = buffer[buffer.rfind(b"\n\n") + 2 :] if b"\n\n" in buffer else buffer
    finally:
        writer.transport.abort()
    words = arrivals[1:301]  # the role chunk rides with the first word: skip it, and the end
    return [max(0.0, t - (words[0] + k * INTERVAL)) for k, t in enumerate(words)] if words else []


async def soak(
    port: int, pid: int, seconds: float, rate: float, hostile: bool
) -> tuple[float, float, float, int]:
    """(drift p99, RSS once every attack has come once, RSS at the end, attacks made)."""
    rng = random.Random(7)
    outcomes: dict[str, int] = {}
    lateness: list[float] = []
    tasks: set[asyncio.Task[object]] = set()

    def spawn(work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def probes() -> None:
        while time.monotonic() - start < seconds:
            try:
                lateness.extend(await probe(port))
            except (OSError, TimeoutError):
                outcomes["probe failed"] = outcomes.get("probe failed", 0) + 1

    start = time.monotonic()
    spawn(probes())
    sent = attacks = 0
    names = list(ATTACKS)
    one_round = (len(names) + 1) * ATTACK_EVERY + 2  # every attack and a drip, once
    rss_round: float | None = None
    while (elapsed := time.monotonic() - start) < seconds:
        while sent < int(elapsed * rate):
            spawn(one_request(port, rng, outcomes))
            sent += 1
        if hostile and attacks < int(elapsed / ATTACK_EVERY):  # attacks in turn, at a low rate
            name = names[attacks % len(names)]
            spawn(attack_from_elsewhere(port, name if attacks % 8 != 7 else "drip"))
            attacks += 1
        if rss_round is None and elapsed > one_round:
            rss_round = rss_kb(pid) / 1024  # first uses are paid: from here on it must be flat
        await asyncio.sleep(0.01)
    await asyncio.wait(tasks, timeout=30)
    await asyncio.sleep(1.0)
    p99 = statistics.quantiles(lateness, n=100)[98] if len(lateness) > 100 else float("nan")
    if outcomes.get("probe failed"):
        print(f"  {outcomes['probe failed']} probe streams failed")
    assert rss_round is not None, f"--seconds must be over {one_round:.0f}"
    return p99, rss_round, rss_kb(pid) / 1024, attacks


def serve(folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            str(ROOT / "scenarios"),
            str(folder),
            "--port",
            "0",
            "--chaos",
            "0.3",
            "--chaos-seed",
            "1",
            "--journal-size",
            "200",  # full within seconds: memory is compared once the journal is flat
            "--client-timeout",
            "1",
            "--loop",
            "asyncio",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def run(folder: Path, work: Callable[[int, int], Awaitable[object]]) -> object:
    server = serve(folder)
    try:
        assert server.stdout is not None
        port = int(re.findall(r"127\.0\.0\.1:(\d+)", server.stdout.readline())[0])
        return asyncio.run(work(port, server.pid))  # type: ignore[arg-type]
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


async def stall_of(port: int, request: bytes) -> float:
    """The largest gap in a probe stream while one attack runs beside it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = _json({"model": "m", "messages": [{"role": "user", "content": "p"}], "stream": True})
    writer.write(_post("/s/probe/v1/chat/completions", body))
    await reader.read(65536)
    await asyncio.sleep(0.05)
    arrivals: list[float] = []

    async def listen() -> None:
        while data := await reader.read(65536):
            arrivals.extend([time.perf_counter()] * data.count(b"\n\n"))

    await (attack(port, request) if request else drip(port))  # once to warm up: first uses
    listening = asyncio.ensure_future(listen())
    began = time.perf_counter()
    await (attack(port, request) if request else drip(port))
    ended = time.perf_counter()
    await asyncio.wait_for(listening, 20)
    writer.transport.abort()
    during = [t for t in arrivals if began - 0.05 <= t <= ended + 0.05]
    return max((b - a for a, b in itertools.pairwise(during)), default=float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--rate", type=float, default=40, help="normal requests per second")
    parser.add_argument("--only", default="", help="attack names (comma-separated parts of them) to use")
    parser.add_argument("--attack", help=argparse.SUPPRESS)  # one attack, as a process of its own
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        asyncio.run(drip(args.port) if args.attack == "drip" else attack(args.port, ATTACKS[args.attack]))
        return
    if args.only:
        wanted = [part.strip() for part in args.only.split(",")]
        for name in list(ATTACKS):
            if not any(part in name for part in wanted):
                del ATTACKS[name]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "probe.yaml").write_text(PROBE)
        (folder / "evil.yaml").write_text(EVIL)
        print("each attack alone (after once to warm up), beside a stream of an event every 10 ms:")
        for attack_name, request in [*ATTACKS.items(), ("admin body that drips", b"")][
            : 0 if args.only else None
        ]:
            gap = run(folder, lambda port, pid, r=request: stall_of(port, r))
            print(f"  {attack_name:<24} largest gap {float(gap) * 1000:6.1f} ms")  # type: ignore[arg-type]
        results = {}
        for hostile in (False, True):
            label = "hostile" if hostile else "clean"
            print(
                f"\n{label} soak: {args.seconds:.0f} s at {args.rate:g} requests/s, chaos 0.3 ...", flush=True
            )
            results[label] = run(
                folder, lambda port, pid, h=hostile: soak(port, pid, args.seconds, args.rate, h)
            )
    (clean_p99, clean_round, clean_rss, _) = results["clean"]  # type: ignore[misc]
    (hostile_p99, hostile_round, hostile_rss, attacks) = results["hostile"]  # type: ignore[misc]
    print(f"\n{'':<10}{'drift p99':>12}{'RSS after a round':>20}{'RSS at end':>14}{'growth':>10}")
    for label, p99, at_round, at_end in (
        ("clean", clean_p99, clean_round, clean_rss),
        ("hostile", hostile_p99, hostile_round, hostile_rss),
    ):
        print(
            f"{label:<10}{p99 * 1000:>9.1f} ms{at_round:>17.1f} MB{at_end:>11.1f} MB"
            f"{(at_end / at_round - 1) * 100:>+9.1f}%"
        )
    print(f"{'ratio':<10}{hostile_p99 / clean_p99:>12.2f}{'':>20}{hostile_rss / clean_rss:>14.2f}")
    print(f"({attacks} attacks; the first use of each feature is paid once, in the first round)")


if __name__ == "__main__":
    main()
