"""Malformed requests get OpenAI's 400 error shape; unknown paths a 404; the server
keeps serving."""

from __future__ import annotations

import httpx
import openai
import pytest

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve("{name: ok, stream: [{text: fine}]}", time_scale=0)


def post(server: MockServer, content: bytes | str, path: str = "/v1/chat/completions") -> httpx.Response:
    return httpx.post(server.url + path, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ('{"model": "m"', None, "could not parse the JSON body"),
        ("[1, 2]", None, "JSON object"),
        ('{"model": "m"}', "messages", "Missing required parameter: 'messages'"),
        ('{"messages": [{"role": "user", "content": "x"}]}', None, "you must provide a model parameter"),
        ('{"model": 7, "messages": []}', "model", "expected a string, but got an integer"),
        ('{"model": "m", "messages": "hi"}', "messages", "expected an array of objects, but got a string"),
        ('{"model": "m", "messages": []}', "messages", "empty array"),
        ('{"model": "m", "messages": [{"content": "x"}]}', "messages[0].role", "Missing required parameter"),
        ('{"model": "m", "messages": [{"role": "robot"}]}', "messages[0].role", "Invalid value: 'robot'"),
        ('{"model": "m", "messages": [{"role": "user"}], "stream": "yes"}', "stream", "expected a boolean"),
        ('{"model": "m", "messages": [{"role": "user"}], "tools": {}}', "tools", "expected an array"),
    ],
)
def test_malformed_request_is_a_400(server: MockServer, body: str, param: str | None, fragment: str) -> None:
    response = post(server, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert fragment in error["message"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert set(error) == {"message", "type", "param", "code"}


def test_invalid_utf8_is_a_400(server: MockServer) -> None:
    assert post(server, b'{"model": "\xff"}').status_code == 400


def test_the_sdk_raises_bad_request(server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(server, "ok").chat.completions.create(model="m", messages=[{"role": "alien"}])  # type: ignore[list-item]
    assert caught.value.param == "messages[0].role"


def test_unknown_path_and_method(server: MockServer) -> None:
    response = httpx.get(server.url + "/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unknown request URL: GET /v1/nothing."
    wrong = httpx.get(server.url + "/v1/chat/completions")
    assert wrong.status_code == 405 and "use POST" in wrong.json()["error"]["message"]


def test_still_serving_after_bad_input(server: MockServer) -> None:
    for junk in [b"", b"\x00\x01", b"null", b'{"model": {}}', b"9" * 10000]:
        assert post(server, junk).status_code == 400
    reply = openai_client(server, "ok").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "fine"


def test_a_bug_of_ours_is_a_500_in_the_api_shape_and_logged(
    server: MockServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import mockserver.server.plans as plans_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(plans_module, "plan_response", broken)
    with pytest.raises(openai.InternalServerError, match="mockserver internal error"):
        openai_client(server, "ok").chat.completions.create(model="m", messages=MESSAGES)
    assert any("renderer bug" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    caplog.clear()  # expected: keep the no-server-errors guard quiet
