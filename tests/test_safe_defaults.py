"""Safe defaults: loopback unless asked, a warning when the admin API is exposed
without a token, no file access through the admin API, a bounded journal."""

from __future__ import annotations

import inspect

import httpx

from helpers import ServeFactory
from mockserver.cli import _parser, exposure_warning
from mockserver.server import admin


def test_serve_binds_loopback_by_default() -> None:
    args = _parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.admin_token is None


def test_exposing_the_admin_api_without_a_token_is_warned_about() -> None:
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("0.0.0.0", "secret") is None
    warning = exposure_warning("0.0.0.0", None)
    assert warning is not None and "without --admin-token" in warning and "/_mock/" in warning


def test_the_token_is_compared_in_constant_time() -> None:
    assert "hmac.compare_digest" in inspect.getsource(admin)


def test_the_admin_api_reads_no_file_it_is_given(serve: ServeFactory) -> None:
    server = serve("{name: a, stream: [{text: a}]}")
    for body in ["/etc/passwd", "scenarios/hello-stream.yaml", "!!python/object/apply:os.system ['true']"]:
        response = httpx.post(server.url + "/_mock/scenarios", content=body)
        assert response.status_code == 400
        assert "root:" not in response.text and "Hello!" not in response.text
