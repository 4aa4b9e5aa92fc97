"""Any web page can reach a mock on localhost: it must not be able to rewrite it.
Each attack a page can make without a CORS preflight is refused; the tools that
use the admin API (curl, the fixture, CI scripts) are not."""

from __future__ import annotations

import httpx
import pytest

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

HIJACK = "name: hijack\nmatch: {text: '.*', priority: 100}\nstream: [{text: owned}]\n"


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve("{name: honest, stream: [{text: honest}]}", time_scale=0, default="honest")


def answer(server: MockServer) -> str:
    reply = openai_client(server).chat.completions.create(model="m", messages=MESSAGES)
    return str(reply.choices[0].message.content)


def test_a_simple_cross_origin_post_of_a_scenario_is_refused(server: MockServer) -> None:
    # what `fetch(url, {method: "POST", mode: "no-cors", body})` sends: text/plain, an Origin
    attack = httpx.post(
        server.url + "/_mock/scenarios",
        content=HIJACK,
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"},
    )
    assert attack.status_code == 403
    assert answer(server) == "honest"


def test_a_form_post_is_refused_even_without_an_origin(server: MockServer) -> None:
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        attack = httpx.post(server.url + "/_mock/scenarios", content=HIJACK, headers={"Content-Type": kind})
        assert attack.status_code == 415, kind
    assert answer(server) == "honest"


def test_a_form_post_to_reset_is_refused(server: MockServer) -> None:
    server.add(HIJACK.replace("owned", "added by the test"))
    attack = httpx.post(
        server.url + "/_mock/reset",
        content=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "null"},
    )
    assert attack.status_code == 403
    assert answer(server) == "added by the test"  # not reset


def test_a_page_from_another_site_is_refused_by_fetch_metadata(server: MockServer) -> None:
    attack = httpx.post(server.url + "/_mock/reset", headers={"Sec-Fetch-Site": "cross-site"})
    assert attack.status_code == 403


def test_a_dns_rebound_name_cannot_read_the_journal(server: MockServer) -> None:
    answer(server)
    rebound = httpx.get(server.url + "/_mock/requests", headers={"Host": f"evil.example:{server.port}"})
    assert rebound.status_code == 403
    for name in ("127.0.0.1", "localhost", "[::1]"):
        ok = httpx.get(server.url + "/_mock/requests", headers={"Host": f"{name}:{server.port}"})
        assert ok.status_code == 200, name


def test_tools_and_the_same_origin_still_work(server: MockServer) -> None:
    as_yaml = httpx.post(
        server.url + "/_mock/scenarios", content=HIJACK, headers={"Content-Type": "application/yaml"}
    )
    assert as_yaml.status_code == 201
    no_type = httpx.post(server.url + "/_mock/reset")  # curl -X POST sends no Content-Type
    assert no_type.status_code == 200
    same_origin = httpx.post(
        server.url + "/_mock/scenarios",
        json={"name": "mine", "stream": [{"text": "x"}]},
        headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"},
    )
    assert same_origin.status_code == 201
