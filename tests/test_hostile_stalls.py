"""One small request must not stall every stream: each attack below runs against a
`mockserver serve` process while a steady stream plays, and that stream's largest
gap between events stays bounded (without the caps it is seconds, or unbounded).

The bound here is generous, so that a busy machine cannot fail the test; the
figure itself (under 100 ms on an idle machine: 10-40 ms) is measured by
`python bench/hostile.py`. Loopback only; every loop bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import PROCESSES, TICKER, as_json, largest_gap_during, post_raw, serve_process

STALL_BOUND = 0.5  # seconds the other streams may wait, at most, on a loaded machine
EVIL = """
name: evil
match: {text: "^(a+)+$"}
stream: [{text: matched}]
"""
NESTED = {"type": "array", "minItems": 200_000, "items": {"type": "array", "minItems": 200_000}}
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10) if prev else ', '.join(['x'] * 10)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=False)
)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> object:
    folder = tmp_path_factory.mktemp("stalls")
    (folder / "ticker.yaml").write_text(TICKER)
    (folder / "evil.yaml").write_text(EVIL)
    with serve_process(folder) as served:
        yield served


def test_a_tool_schema_asking_for_huge_arrays(url: str) -> None:
    tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": NESTED}}},
    }
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [tool],
        "tool_choice": "required",
    }
    gap, (status, answer) = largest_gap_during(
        url, lambda: post_raw(url, "/v1/chat/completions", as_json(body))
    )
    assert status == 200 and b'"name":"f"' in answer
    assert len(answer) < 60_000  # the arguments stayed small
    assert gap < STALL_BOUND


def test_embeddings_of_2000_inputs_at_3072_dimensions(url: str) -> None:
    body = {
        "model": "text-embedding-3-large",
        "input": [f"text {i}" for i in range(2000)],
        "dimensions": 3072,
    }
    gap, (status, answer) = largest_gap_during(url, lambda: post_raw(url, "/v1/embeddings", as_json(body)))
    assert status == 200 and answer.startswith(b"HTTP/1.1 200")
    assert gap < STALL_BOUND


def test_embeddings_past_the_real_limits_are_refused_first(url: str) -> None:
    too_many = {"model": "m", "input": ["x"] * 2049}
    status, answer = post_raw(url, "/v1/embeddings", as_json(too_many))
    assert status == 400 and b"'$.input' is invalid" in answer
    too_long = {"model": "m", "input": "word " * 9000}
    status, answer = post_raw(url, "/v1/embeddings", as_json(too_long))
    assert status == 400 and b"maximum context length is 8192 tokens" in answer
    too_much = {"model": "m", "input": ["w " * 8000] * 40}  # 8,000 tokens each, 320,000 in all
    status, answer = post_raw(url, "/v1/embeddings", as_json(too_much))
    assert status == 400 and b"max 300000 tokens per request" in answer


def test_a_catastrophic_regex_runs_in_linear_time(url: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "a" * 20_000 + "b"}]}
    gap, (status, answer) = largest_gap_during(
        url, lambda: post_raw(url, "/v1/chat/completions", as_json(body))
    )
    assert status == 200 and b"matched" not in answer  # `^(a+)+$` does not match: it ends in b
    assert gap < STALL_BOUND
    body = {"model": "m", "messages": [{"role": "user", "content": "a" * 30}]}
    assert b"matched" in post_raw(url, "/v1/chat/completions", as_json(body))[1]


def test_a_yaml_alias_bomb_through_the_admin_api(url: str) -> None:
    headers = {"Content-Type": "application/yaml"}
    gap, (status, answer) = largest_gap_during(
        url, lambda: post_raw(url, "/_mock/scenarios", BOMB.encode(), headers)
    )
    assert status == 400 and b"too many values" in answer
    assert gap < STALL_BOUND


def test_a_pattern_re2_cannot_run_in_linear_time_is_refused_at_load(tmp_path: Path) -> None:
    from mockserver import ScenarioErrors
    from mockserver.scenario import load_text

    with pytest.raises(ScenarioErrors) as caught:
        load_text("name: x\nmatch:\n  text: '(a)\\1'\nstream: [{text: y}]\n", "s.yaml")
    (message,) = [e.format() for e in caught.value.errors]
    assert message.startswith("s.yaml:3: match.text: invalid regular expression (RE2 syntax, linear time)")


def test_sigterm_is_honoured_within_a_second_during_heavy_work(tmp_path: Path) -> None:
    import signal
    import threading
    import time

    (tmp_path / "ticker.yaml").write_text(TICKER)
    with serve_process(tmp_path) as served:
        body = {
            "model": "text-embedding-3-large",
            "input": [f"t {i}" for i in range(2000)],
            "dimensions": 3072,
        }
        attacks = [
            threading.Thread(target=post_raw, args=(served, "/v1/embeddings", as_json(body)), daemon=True)
        ]
        attacks[0].start()
        time.sleep(0.3)  # the heavy render is under way
        process = PROCESSES[served]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=5)
        assert time.monotonic() - started < 1.0
        assert process.returncode == 0
