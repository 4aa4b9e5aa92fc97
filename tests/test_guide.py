"""The OpenAI SDK streaming guide's examples (tests/guide/*.py), run unmodified as
separate programs against `mockserver serve scenarios/`, configured only by
OPENAI_BASE_URL and OPENAI_API_KEY."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = Path(__file__).resolve().parent / "guide"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "scenarios/", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    assert found, f"no URL in the startup line: {line!r}"
    yield found.group(1)
    process.terminate()
    process.wait(timeout=5)
    process.stdout.close()
    log.close()


def run_example(name: str, base_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-test")
    done = subprocess.run(
        [sys.executable, str(GUIDE / name)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sync_stream_prints_the_text(server_url: str) -> None:
    out = run_example("stream_sync.py", server_url + "/v1")
    assert len(out.split()) >= 5  # the auto-responder's paragraph, word by word


def test_async_stream_prints_the_text(server_url: str) -> None:
    out = run_example("stream_async.py", server_url + "/v1")
    assert len(out.split()) >= 5


def test_context_manager_stream(server_url: str) -> None:
    out = run_example("context_manager.py", server_url + "/s/hello-stream/v1")
    assert out == "Hello! I am a scripted reply from mockserver, streamed one word at a time."


def test_chunk_fields(server_url: str) -> None:
    out = run_example("chunk_fields.py", server_url + "/v1")
    ids = set(re.findall(r"^ID: (\S+)$", out, re.M))
    assert len(ids) == 1 and next(iter(ids)).startswith("chatcmpl-")
    assert set(re.findall(r"^Model: (\S+)$", out, re.M)) == {"gpt-4o-mini"}
    assert all(int(c) > 1_600_000_000 for c in re.findall(r"^Created: (\d+)$", out, re.M))
    reasons = re.findall(r"^Finish reason: (\S+)$", out, re.M)
    assert reasons[-1] == "stop" and set(reasons[:-1]) == {"None"}
    assert "role='assistant'" in out.split("Delta: ")[1]  # the first delta carries the role


def test_accumulation(server_url: str) -> None:
    out = run_example("accumulate.py", server_url + "/s/hello-stream/v1")
    text = "Hello! I am a scripted reply from mockserver, streamed one word at a time."
    assert out == f"{text}\n\nFull response: {text}\n"


def test_function_call_deltas(server_url: str) -> None:
    # scenarios/legacy-function-call.yaml matches requests offering get_current_weather
    out = run_example("function_call.py", server_url + "/v1")
    assert "Function: get_current_weather\n" in out
    args = out.split("Arguments: ", 1)[1].strip()
    assert ast.literal_eval(args) == {"location": "Boston, MA", "unit": "fahrenheit"}


def test_error_handling_connection_error(server_url: str) -> None:
    out = run_example("error_handling.py", server_url + "/s/drop-after-third-chunk/v1")
    assert out.startswith("one two three")
    assert "The server could not be reached" in out
    assert "incomplete chunked read" in out  # the cause: a truncated chunked body


def test_error_handling_rate_limit(server_url: str) -> None:
    out = run_example("error_handling.py", server_url + "/s/error-429/v1")
    assert out.strip() == "A 429 status code was received; we should back off a bit."


def test_error_handling_status_error(server_url: str) -> None:
    out = run_example("error_handling.py", server_url + "/s/error-404/v1")
    assert "Another non-200-range status code was received\n404\n" in out


def test_error_handling_success(server_url: str) -> None:
    out = run_example("error_handling.py", server_url + "/s/hello-stream/v1")
    assert out.startswith("Hello! I am")


def test_async_retry_with_backoff(server_url: str) -> None:
    out = run_example("async_retry.py", server_url + "/s/fail-twice-then-succeed/v1")
    lines = out.strip().splitlines()
    assert lines[0].startswith("Attempt 1 failed: Error code: 503")
    assert lines[1].startswith("Attempt 2 failed: Error code: 503")
    assert lines[2] == "Result: Third time lucky."


def test_manual_close_after_ten_chunks(server_url: str) -> None:
    out = run_example("manual_close.py", server_url + "/v1")
    words = out.split("\n")[0].split()
    assert 5 <= len(words) <= 9  # chunk 0 is the role chunk (no content); 9 words follow
    assert out.endswith("closed after 10 chunks\n")


def test_stream_helper_final_completion(server_url: str) -> None:
    out = run_example("stream_helper.py", server_url + "/s/hello-stream/v1")
    text = "Hello! I am a scripted reply from mockserver, streamed one word at a time."
    assert out == f"{text}\n{text}\n"


def test_every_example_is_covered() -> None:
    tested = set(re.findall(r'run_example\("(\w+\.py)"', Path(__file__).read_text()))
    assert tested == {p.name for p in GUIDE.glob("*.py")}, "an example without a test"
