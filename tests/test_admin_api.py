"""The admin API over HTTP, as a CI job talking to a container uses it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import httpx
import pytest

import mockserver
from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

FILE_SCENARIO = "{name: from-file, stream: [{text: file}]}"
ADDED_YAML = """
name: added
match: {text: "^admin"}
stream:
  - text: "added over HTTP"
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(FILE_SCENARIO, time_scale=0)


def ask(server: MockServer, text: str) -> str:
    reply = openai_client(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": text}]
    )
    return str(reply.choices[0].message.content)


def test_health(server: MockServer) -> None:
    body = httpx.get(server.url + "/_mock/health").json()
    assert body["status"] == "ok" and body["scenarios"] == 1
    # one version: the installed package's metadata is read from mockserver/version.py
    assert body["version"] == mockserver.__version__ == importlib.metadata.version("mockserver")


def test_the_first_health_check_loads_no_package_metadata() -> None:
    """importlib.metadata costs a first health check (a CI container's readiness probe,
    a fixture's first use) several milliseconds to import: the version is a constant."""
    code = (
        "import socket, sys, mockserver\n"
        "s = mockserver.MockServer().start()\n"
        "c = socket.create_connection(('127.0.0.1', s.port))\n"
        "c.sendall(b'GET /_mock/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "reply = b''\n"
        "while chunk := c.recv(65536):\n"
        "    reply += chunk\n"
        "c.close()\n"
        "s.stop()\n"
        "print(reply.split(b'\\r\\n', 1)[0].decode(), 'importlib.metadata' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["HTTP/1.1", "200", "OK", "False"], out


def test_add_list_delete_reset(server: MockServer) -> None:
    with httpx.Client(base_url=server.url + "/_mock") as admin:
        check_add_list_delete_reset(server, admin)


def check_add_list_delete_reset(server: MockServer, admin: httpx.Client) -> None:
    added = admin.post("/scenarios", content=ADDED_YAML, headers={"content-type": "application/yaml"})
    assert added.status_code == 201 and added.json() == {"added": ["added"]}
    as_json = admin.post("/scenarios", json={"name": "json-one", "stream": [{"text": "j"}]})
    assert as_json.status_code == 201
    names = [s["name"] for s in admin.get("/scenarios").json()["scenarios"]]
    assert names == ["from-file", "added", "json-one"]
    assert ask(server, "admin please") == "added over HTTP"

    assert admin.delete("/scenarios/json-one").json() == {"deleted": "json-one"}
    missing = admin.delete("/scenarios/json-one")
    assert missing.status_code == 404 and "from-file, added" in missing.json()["error"]["message"]

    requests = admin.get("/requests").json()
    assert requests["dropped"] == 0 and len(requests["requests"]) == 1
    entry = requests["requests"][0]
    assert entry["scenario"] == "added" and entry["json"]["messages"][0]["content"] == "admin please"
    assert set(entry) >= {
        "time",
        "method",
        "path",
        "headers",
        "json",
        "scenario",
        "response_index",
        "status",
        "events_sent",
        "bytes_sent",
        "fault",
        "left_early",
        "left_after_event",
    }
    assert admin.delete("/requests").status_code == 200
    assert admin.get("/requests").json()["requests"] == []

    assert admin.post("/reset").json() == {"reset": True, "scenarios": 1}
    assert [s["name"] for s in admin.get("/scenarios").json()["scenarios"]] == ["from-file"]
    assert ask(server, "admin please") != "added over HTTP"  # gone: the auto-responder answers


def test_a_bad_scenario_is_refused_and_nothing_is_lost(server: MockServer) -> None:
    bad = httpx.post(
        server.url + "/_mock/scenarios",
        content="name: broken\nstream:\n  - txet: hi\n  - finish: stopp\n",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        "request body:3: stream[0]: no step kind in ['txet'] (did you mean 'text'?); steps are: text, "
        "reasoning, refusal, fake, tool_call, function_call, finish, usage, error, event, comment, "
        "raw, wait, disconnect, end, reset, stall, done",
        "request body:4: stream[1].finish: 'stopp' is not one of: stop, length, tool_calls, "
        "content_filter, function_call (did you mean 'stop'?)",
    ]
    for junk in [b"\xff\xfe", b"[1, 2", b"- a list", b"!!python/object:os.system x"]:
        assert httpx.post(server.url + "/_mock/scenarios", content=junk).status_code == 400
    assert (
        ask(server, "x")
        and openai_client(server, "from-file")
        .chat.completions.create(model="m", messages=MESSAGES)
        .choices[0]
        .message.content
        == "file"
    )


def test_admin_token(serve: ServeFactory) -> None:
    server = serve(FILE_SCENARIO, admin_token="s3cret")
    assert httpx.get(server.url + "/_mock/health").status_code == 200  # health stays open
    for method, path in [
        ("GET", "/scenarios"),
        ("POST", "/reset"),
        ("GET", "/requests"),
        ("DELETE", "/requests"),
        ("DELETE", "/scenarios/from-file"),
    ]:
        response = httpx.request(method, server.url + "/_mock" + path)
        assert response.status_code == 401, path
        wrong = httpx.request(method, server.url + "/_mock" + path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401, path
    ok = httpx.get(server.url + "/_mock/scenarios", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    # the API endpoints never need it
    assert openai_client(server, "from-file").chat.completions.create(model="m", messages=MESSAGES)


def test_an_event_name_with_a_line_break_is_refused_over_http(server: MockServer) -> None:
    scenario = {"name": "split", "stream": [{"event": {"event": "a\nb", "data": "x"}}]}
    answer = httpx.post(server.url + "/_mock/scenarios", json=scenario)
    assert answer.status_code == 400
    assert "stream[0].event.event: must be one line" in answer.text
    assert [s["name"] for s in httpx.get(server.url + "/_mock/scenarios").json()["scenarios"]] == [
        "from-file"
    ]
