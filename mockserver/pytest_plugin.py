"""The pytest plugin: the `mockserver` fixture, its marker and ini options.

Registered through the `pytest11` entry point. The only module that imports pytest;
mockserver's server side is imported when a test first asks for the fixture, so
the plugin costs nothing to load.

Precedence, from strongest: the `@pytest.mark.mockserver(...)` marker, then the ini
options, then the defaults (no scenario files, time scale 1, seed 0, strict).

Strict by default: a request no scenario takes gets a 404 saying, per scenario, why
not, and the test fails at teardown with that explanation. `strict=False` (marker)
or `mockserver_strict = false` (ini) keeps the auto-responder.

Recordings, as VCR tools do it: each test's recorded answers live in
`<mockserver_record_dir>/<module>/<test>.yaml` and are served when present.
`--mockserver-record=none` (the default) never contacts the upstream: what was not
recorded fails the test with strict mode's explanation. `new` sends what is not
recorded to `--mockserver-upstream` (ini `mockserver_upstream`) and records it; `all`
records the test's every answer again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .runner import MockServer

MARKER = "mockserver"
MARKER_KEYS = ("scenario", "time_scale", "seed", "strict")
MARKER_HELP = (
    "mockserver(scenario=None, time_scale=None, seed=None, strict=None): for this test, answer "
    "unmatched requests with `scenario`, scale every delay by `time_scale`, seed with `seed`; "
    "strict=False lets the auto-responder answer what no scenario takes."
)


RECORD_MODES = ("none", "new", "all")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver")
    group.addoption(
        "--mockserver-record",
        choices=RECORD_MODES,
        default="none",
        help="none: serve recordings only, never the upstream (default); new: record what is not "
        "recorded yet; all: record every answer again",
    )
    group.addoption(
        "--mockserver-upstream",
        default=None,
        metavar="URL",
        help="the real API recordings are made from (ini: mockserver_upstream)",
    )
    parser.addini("mockserver_upstream", "the real API recordings are made from", default="")
    parser.addini(
        "mockserver_record_dir",
        "where recordings live, a file per test: DIR/<module>/<test>.yaml (default tests/recordings)",
        default="tests/recordings",
    )
    parser.addini(
        "mockserver_scenarios",
        "scenario files and folders the mockserver fixture serves (one per line, relative to the ini file)",
        type="paths",
        default=[],
    )
    parser.addini(
        "mockserver_strict",
        "a request no scenario takes fails the test with the reason (default true); false keeps "
        "the auto-responder",
        type="bool",
        default=True,
    )
    parser.addini(
        "mockserver_time_scale",
        "multiply every scenario delay by this (0 plays instantly); default 1",
        default="1",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    if config.getoption("mockserver_record", "none") != "none" and not _upstream(config):
        raise pytest.UsageError(
            "--mockserver-record=new and =all need --mockserver-upstream URL (or ini mockserver_upstream)"
        )


def _upstream(config: pytest.Config) -> str | None:
    given = config.getoption("mockserver_upstream", None) or config.getini("mockserver_upstream")
    return str(given) if given else None


def recording_path(config: pytest.Config, item: pytest.Item) -> Path:
    """Where a test's recordings live: DIR/<module>/<test>.yaml."""
    root = Path(str(config.getini("mockserver_record_dir")))
    if not root.is_absolute():
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        root = base / root
    module = item.path.stem if item.path is not None else "tests"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", item.name).strip("_") or "test"
    return root / module / f"{name}.yaml"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every mockserver marker before anything runs: a typo is a usage error."""
    for item in items:
        for marker in item.iter_markers(MARKER):
            _marker_options(marker, item.nodeid)


def _marker_options(marker: pytest.Mark, where: str) -> dict[str, Any]:
    if marker.args:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.mockserver takes keyword arguments only: {', '.join(MARKER_KEYS)}"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.mockserver got unknown argument(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(MARKER_KEYS)}"
        )
    options = dict(marker.kwargs)
    scenario, time_scale, seed, strict = (options.get(k) for k in MARKER_KEYS)
    if strict is not None and not isinstance(strict, bool):
        raise pytest.UsageError(f"{where}: mockserver(strict=...) must be True or False")
    if scenario is not None and not isinstance(scenario, str):
        raise pytest.UsageError(f"{where}: mockserver(scenario=...) must be a scenario name")
    if time_scale is not None and (
        isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)) or time_scale < 0
    ):
        raise pytest.UsageError(f"{where}: mockserver(time_scale=...) must be a number, 0 or more")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise pytest.UsageError(f"{where}: mockserver(seed=...) must be a whole number")
    return options


def _ini_time_scale(config: pytest.Config) -> float:
    raw = config.getini("mockserver_time_scale")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"mockserver_time_scale must be a number, got {raw!r}") from None
    if value < 0:
        raise pytest.UsageError(f"mockserver_time_scale must be 0 or more, got {raw!r}")
    return value


def _start_recording(server: MockServer, request: pytest.FixtureRequest) -> bool:
    """Serve the test's recordings; in `new` and `all` modes, record what they lack.
    True when recording."""
    config = request.config
    mode = config.getoption("mockserver_record", "none")
    path = recording_path(config, request.node)
    if mode == "none":
        if path.is_file():
            server.add(path)
        return False
    if mode == "all":
        path.unlink(missing_ok=True)
    upstream = _upstream(config)
    assert upstream is not None  # pytest_configure made sure
    server.record(upstream, path)
    return True


@pytest.fixture(scope="session")
def _mockserver_session(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """One server per test session (per xdist worker: each is its own process)."""
    from .runner import MockServer

    paths = [str(p) for p in pytestconfig.getini("mockserver_scenarios")]
    strict = bool(pytestconfig.getini("mockserver_strict"))
    server = MockServer(paths, time_scale=_ini_time_scale(pytestconfig), strict=strict).start()
    yield server
    server.stop()


@pytest.fixture
def mockserver(_mockserver_session: MockServer, request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """A mockserver on 127.0.0.1 for this test: reset before it, configured by the
    `mockserver` marker. Exceptions raised inside the server fail the test."""
    server = _mockserver_session
    server.reset()
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        options = _marker_options(marker, request.node.nodeid)
        if options.get("scenario") is not None:
            server.use(options["scenario"])
        server.configure(
            time_scale=options.get("time_scale"), seed=options.get("seed"), strict=options.get("strict")
        )
    recording = _start_recording(server, request)
    try:
        yield server
    finally:
        if recording:
            server.stop_recording()
    misses = server.take_misses()
    if misses:
        more = f"\n(and {len(misses) - 1} more such requests)" if len(misses) > 1 else ""
        pytest.fail(misses[0] + more, pytrace=False)
    failures = server.take_failures()
    if failures:
        if len(failures) > 1:
            failures[0].add_note(f"(and {len(failures) - 1} more exceptions inside mockserver)")
        raise failures[0]
