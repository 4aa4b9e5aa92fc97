"""One configuration value: Config, its keyword-argument twin Options, and every
face (create_app, MockServer, the CLI) taking the same keys."""

from __future__ import annotations

import typing

import pytest

from mockserver import MockServer, MockServerError
from mockserver.cli import _parser
from mockserver.config import Config, Options
from mockserver.server.app import STATE, create_app


def test_options_and_config_have_the_same_keys() -> None:
    assert set(typing.get_type_hints(Options)) == set(Config.names())


RECORDING = ["upstream", "record_to", "redact", "exact", "stall_after"]


def test_every_config_key_is_a_serve_or_record_flag() -> None:
    serve = _parser().parse_args(["serve"])
    assert [name for name in Config.names() if not hasattr(serve, name)] == RECORDING
    record = _parser().parse_args(["record"])
    assert [name for name in Config.names() if not hasattr(record, name)] == []


def test_a_config_and_options_over_it() -> None:
    base = Config(time_scale=0, seed=3, chaos_faults="500,503", cors="http://a.test, http://b.test")
    assert base.faults == ("500", "503") and base.origins == ("http://a.test", "http://b.test")
    app = create_app((), base, seed=4, chaos_session="victim")
    config = app[STATE].config
    assert (config.time_scale, config.seed, config.chaos_session) == (0, 4, "victim")


def test_mockserver_takes_every_option() -> None:
    server = MockServer(time_scale=0, chaos_session="victim", strict=True, journal_bytes=1_000_000)
    assert server._state.config.chaos_session == "victim" and server._state.settings.strict


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"time_scale": -1}, "time_scale must be 0 or more"),
        ({"chaos": 2}, "chaos must be a rate from 0 to 1"),
        ({"chaos_faults": "gremlins"}, "gremlins"),
        ({"journal_bytes": 0}, "journal_size and journal_bytes must be at least 1"),
    ],
)
def test_bad_values_name_the_option(options: dict[str, object], says: str) -> None:
    with pytest.raises(MockServerError, match=says):
        Config(**options)  # type: ignore[arg-type]


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        Config().updated(time_scael=0)
