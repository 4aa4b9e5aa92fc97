"""The public API type-checks as users write against it: a user's test file, using
MockServer, create_app and the fixture's attributes, passes `mypy --strict`, and a
misuse is caught. mockserver ships `py.typed`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mockserver

ROOT = Path(__file__).resolve().parent.parent

USER_CODE = """
from mockserver import MockServer, ScenarioErrors
from mockserver.config import Config
from mockserver.server.app import create_app
from mockserver.server.journal import Entry
from aiohttp import web


def test_with_the_fixture(mockserver: MockServer) -> None:
    name: str = mockserver.add({"stream": [{"text": "hi"}]})
    url: str = mockserver.url_for(name) + "/v1"
    base: str = mockserver.openai_url
    mockserver.use(name)
    entries: list[Entry] = mockserver.requests
    first: Entry = entries[0]
    status: int | None = first.status
    left: bool = first.left_early
    mockserver.reset()
    del url, base, status, left


def standalone() -> None:
    with MockServer(["scenarios/"], time_scale=0, seed=7, chaos=0.1) as server:
        print(server.url, server.port)
    app: web.Application = create_app(["scenarios/"], time_scale=0.5, journal_bytes=1_000_000)
    config = Config(time_scale=0, strict=True, chaos_faults=("500", "503"))
    other: web.Application = create_app([], config, seed=3)
    with MockServer([], config, chaos_session="victim") as server:
        print(server.openai_url)
    del app, other
    try:
        MockServer().add("stream: [{txt: x}]")
    except ScenarioErrors as errors:
        print(errors.errors[0].format())
"""
MISUSE = """
from mockserver import MockServer

MockServer(time_scale="fast")
"""


def mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "user_test.py").write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user_test.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        # the package as installed, or this checkout (an editable install hides it from mypy)
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )


def test_a_users_code_passes_mypy_strict(tmp_path: Path) -> None:
    result = mypy(tmp_path, USER_CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misuse_is_a_type_error(tmp_path: Path) -> None:
    result = mypy(tmp_path, MISUSE)
    assert (
        result.returncode == 1
        and 'Argument "time_scale" to "MockServer" has incompatible type "str"' in result.stdout
    )


def test_py_typed_ships() -> None:
    assert (Path(mockserver.__file__).parent / "py.typed").is_file()
