"""Same scenario, seed and requests → the same bytes; another seed → other ids."""

from __future__ import annotations

from typing import Any

from helpers import ServeFactory, raw_chunks


def concrete_paths(api: Any, stream: bool) -> list[str]:
    """Each route of `api` that names one path, and its sample path (routes with
    parameters, like Gemini's model, are reached through that)."""
    paths = [path for path in api.routes if "{" not in path]
    sampled = api.sample_path("m", stream=stream)
    return paths if sampled in paths else [*paths, sampled]


SCENARIO = """
name: seeded
timing: {interval: 1ms, jitter: 1ms}
split: words
stream:
  - fake: sentence
  - tool_call: {name: f, arguments: {a: 1}, pieces: 3}
"""
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def bodies(serve: ServeFactory, seed: int | None, requests: int = 3) -> list[bytes]:
    server = serve(SCENARIO, seed=seed)
    result = []
    for _ in range(requests):
        _, _, chunks, _ = raw_chunks(server.port, "/s/seeded/v1/chat/completions", BODY)
        result.append(b"".join(chunks))
    return result


def test_same_seed_same_bytes(serve: ServeFactory) -> None:
    first, again = bodies(serve, 11), bodies(serve, 11)
    assert first == again
    assert len(set(first)) == 3  # each request number gets its own ids


def test_other_seed_other_bytes(serve: ServeFactory) -> None:
    a, b = bodies(serve, 11, 1), bodies(serve, 12, 1)
    assert a != b


def test_no_seed_is_seed_zero_not_random(serve: ServeFactory) -> None:
    assert bodies(serve, None, 2) == bodies(serve, None, 2)


def test_same_request_sequence_same_schedule() -> None:
    from mockserver.render import APIS, ApiRequest, plan_response
    from mockserver.scenario import load_text

    scenario = load_text(SCENARIO, "s.yaml")[0]
    request = APIS["chat"].parse(BODY, ApiRequest("chat", json=BODY))

    def plan(seed: int):  # type: ignore[no-untyped-def]
        return plan_response(
            APIS["chat"], scenario.responses[0], request, scenario="seeded", number=0, seed=seed
        )

    assert plan(3) == plan(3)
    assert [w.at for w in plan(3).writes] != [w.at for w in plan(4).writes]  # jitter is seeded


EVERY_API = """
name: everywhere
split: words
stream:
  - reasoning: "thinking it over"
  - text: "the same words every time"
  - tool_call: {name: lookup, arguments: {q: same}}
"""


def test_same_seed_same_bytes_on_every_api_chaos_included(serve: ServeFactory) -> None:
    from helpers import raw_chunks
    from mockserver.render import APIS

    def run() -> list[tuple[str, int, bytes]]:
        from mockserver.server.chaos import FAULTS

        held = [f for f in FAULTS if f != "stall"]  # a stall holds until the client leaves
        server = serve(EVERY_API, time_scale=0, seed=5, chaos=0.5, chaos_seed=9, chaos_faults=held)
        out = []
        for name, api in APIS.items():
            for stream in (True, False):
                for path in concrete_paths(api, stream):
                    body = api.sample_request("m", "hi", stream=stream)
                    for _ in range(3):
                        try:
                            status, _, chunks, _ = raw_chunks(
                                server.port, "/s/everywhere" + path, body, timeout=3
                            )
                        except (IndexError, OSError):  # a fault before any response
                            status, chunks = 0, []
                        out.append((f"{name} {path}", status, b"".join(chunks)))
        return out

    first = run()
    assert first == run()
    every = {
        f"{name} {path}"
        for name, api in APIS.items()
        for s in (True, False)
        for path in concrete_paths(api, s)
    }
    assert {api for api, _, _ in first} == every
