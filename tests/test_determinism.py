"""Same scenario, seed and requests → the same bytes; another seed → other ids."""

from __future__ import annotations

from helpers import ServeFactory, raw_chunks

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
