"""The mockserver command: validate, list, show, and serve as a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import raw_chunks
from mockserver import MockServer
from mockserver.cli import main

ROOT = Path(__file__).resolve().parent.parent
TYPO = """\
name: typo
stream:
  - text: hello
  - tool_call: {name: f, argments: {}}
"""


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "scenarios")]) == 0
    assert re.fullmatch(r"\d+ scenarios in \d+ files OK\n", capsys.readouterr().out)


def test_validate_points_at_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "typo.yaml").write_text(TYPO)
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'typo.yaml'}:4: stream[1].tool_call.argments: unknown key 'argments' "
        "(did you mean 'arguments'?)" in err
    )


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", str(ROOT / "scenarios")]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"weather-tool-call\s+tools=get_weather text=/\(\?i\)weather/\s+503 error, stream of 4 steps", out
    )


def test_show_prints_offsets_and_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "weather-tool-call", str(ROOT / "scenarios"), "--response", "2"]) == 0
    out = capsys.readouterr().out
    assert "weather-tool-call · response 2 of 2 · chat · stream · status 200" in out
    assert re.search(r"^\s+0\.300s  data: \{\"id\":\"chatcmpl-", out, re.M)
    assert "data: [DONE]" in out and "[end of body]" in out


def test_show_raw_is_byte_identical_to_the_server(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    path = str(ROOT / "scenarios" / "weather-tool-call.yaml")
    assert main(["show", "weather-tool-call", path, "--response", "2", "--raw"]) == 0
    shown = capsysbinary.readouterr().out
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}], "stream": True}
    with MockServer([path], time_scale=0) as server:
        url = "/s/weather-tool-call/v1/chat/completions"
        raw_chunks(server.port, url, body)  # request 1 gets the 503
        _, _, chunks, _ = raw_chunks(server.port, url, body)
    assert b"".join(chunks) == shown and shown.count(b"data: ") == 10


def test_show_unknown_name_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "weather-tool-cal", str(ROOT / "scenarios")]) == 1
    assert "did you mean 'weather-tool-call'" in capsys.readouterr().err


def _start_serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_serve_refuses_a_bad_scenario(tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text(TYPO)
    process = _start_serve(str(tmp_path), "--port", "0")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1 and out == ""
    assert "typo.yaml:4: stream[1].tool_call.argments" in err


def test_serve_starts_logs_and_stops_cleanly_on_sigterm() -> None:
    process = _start_serve("scenarios/", env={"MOCKSERVER_PORT": "0", "MOCKSERVER_TIME_SCALE": "1"})
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()
    found = re.search(r"serving (\d+) scenarios from scenarios/ on http://127\.0\.0\.1:(\d+)", line)
    assert found, line
    port = int(found.group(2))
    # an open, stalled stream must not hold the shutdown up
    sock = socket.create_connection(("127.0.0.1", port))
    payload = b'{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}'
    sock.sendall(
        b"POST /s/stall-forever/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=5)
    assert time.monotonic() - started < 1.0
    assert process.returncode == 0
    sock.settimeout(2)
    rest = b""
    while piece := sock.recv(4096):
        rest += piece
    sock.close()
    assert not rest.endswith(b"0\r\n\r\n")  # the stream was cut, not finished
    err = process.stderr.read()
    assert "Traceback" not in err
    process.stdout.close()
    process.stderr.close()


def test_serve_logs_one_line_per_request() -> None:
    process = _start_serve("scenarios/", "--port", "0", "--time-scale", "0")
    assert process.stdout is not None and process.stderr is not None
    port = int(re.findall(r":(\d+) ", process.stdout.readline())[0])
    raw_chunks(
        port,
        "/s/drop-after-third-chunk/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
    )
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=5)
    err = process.stderr.read()
    assert re.search(
        r"\d\d:\d\d:\d\d\.\d{3}  POST /s/drop-after-third-chunk/v1/chat/completions  drop-after-third-chunk\[1\]  "
        r"200  4/4 events  \d+ms  disconnect",
        err,
    ), err
    process.stdout.close()
    process.stderr.close()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("mockserver ")


def test_serve_with_chaos_logs_json_lines_and_a_summary() -> None:
    process = _start_serve(
        "scenarios/",
        "--port",
        "0",
        "--time-scale",
        "0",
        "--chaos",
        "1",
        "--chaos-faults",
        "500",
        "--log-format",
        "json",
    )
    assert process.stdout is not None and process.stderr is not None
    port = int(re.findall(r":(\d+) ", process.stdout.readline())[0])
    status, headers, _, _ = raw_chunks(
        port,
        "/s/hello-stream/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "x"}]},
    )
    assert status == 500 and headers["x-mock-fault"] == "500"
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=5)
    lines = process.stderr.read().splitlines()
    record = json.loads(lines[0])
    assert record["fault"] == "500" and record["status"] == 500 and record["scenario"] == "hello-stream"
    assert record["model"] == "m" and "headers" not in record
    assert lines[-1] == "mockserver stopped: 1 request, 1 fault (500 1), 0 clients left early"
    process.stdout.close()
    process.stderr.close()


def test_flags_and_paths_in_any_order(capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = str(ROOT / "scenarios")
    assert main(["show", "weather-tool-call", "--api", "anthropic", scenarios, "--response", "1"]) == 0
    assert "weather-tool-call · response 1 of 2 · anthropic" in capsys.readouterr().out
    assert main(["show", "--api", "responses", "weather-tool-call", scenarios]) == 0
    assert "· responses ·" in capsys.readouterr().out
    assert main(["list", scenarios]) == 0 and main(["validate", scenarios]) == 0


def test_a_bad_environment_value_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOCKSERVER_TIME_SCALE", "fast")
    # a command that does not use it is not bothered by it
    assert main(["validate", str(ROOT / "scenarios")]) == 0
    with pytest.raises(SystemExit) as stopped:
        main(["serve", str(ROOT / "scenarios")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "usage: mockserver serve" in err
    assert "MOCKSERVER_TIME_SCALE='fast' is not a number, 0 or more (for --time-scale)" in err
    monkeypatch.setenv("MOCKSERVER_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit):
        main(["serve", "--time-scale", "0"])  # the flag wins over the variable
    assert "MOCKSERVER_LOG_FORMAT='xml' is not one of text, json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["list", "scenarios"], ["show", "weather-tool-call", "scenarios"], ["schema"], ["--help"]]
)
def test_a_reader_that_stops_early_gets_no_traceback(command: list[str]) -> None:
    # `mockserver list | head -1`: the pipe's reader is gone before everything is written
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `head` does once it has its line
    err = process.stderr.read().decode()
    process.stderr.close()
    assert (process.wait(timeout=30), err) == (0, "")
