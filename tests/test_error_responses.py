"""Error responses: every status class as the SDK's exception, statuses derived from
error types, and the retry sequence (503, 503, then success) under max_retries=2."""

from __future__ import annotations

import openai
import pytest

from helpers import MESSAGES, ServeFactory, async_openai_client, openai_client
from mockserver import MockServer

EXPECTED = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    503: openai.InternalServerError,
}


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    statuses = "\n".join(f"  - {{name: s{code}, status: {code}}}" for code in EXPECTED)
    return serve(
        "scenarios:\n" + statuses,
        """
        scenarios:
          - name: typed
            error: {message: "Model {{ request.model }} is busy", type: rate_limit_error, code: busy}
          - name: typed-with-status
            status: 418
            error: {message: teapot, type: server_error}
          - name: retry
            responses:
              - {status: 503, headers: {retry-after-ms: "10"}}
              - {status: 503, headers: {retry-after-ms: "10"}}
              - stream: [{text: "Third time lucky."}]
          - name: rate-limited
            status: 429
            headers: {retry-after-ms: "10"}
            error: {message: Slow down, type: requests, code: rate_limit_exceeded}
        """,
        time_scale=0,
    )


@pytest.mark.parametrize("status", sorted(EXPECTED))
@pytest.mark.parametrize("stream", [True, False])
def test_status_raises_the_sdk_exception(server: MockServer, status: int, stream: bool) -> None:
    client = openai_client(server, f"s{status}")
    with pytest.raises(EXPECTED[status]) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES, stream=stream)
    error = caught.value
    assert error.status_code == status
    assert isinstance(error.body, dict) and error.body["message"]  # OpenAI's error shape
    assert error.request_id and error.request_id.startswith("req_")


@pytest.mark.parametrize("status", [400, 429, 503])
async def test_async_client_raises_too(server: MockServer, status: int) -> None:
    client = async_openai_client(server, f"s{status}")
    with pytest.raises(EXPECTED[status]):
        await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    await client.close()


def test_status_follows_from_the_error_type(server: MockServer) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(server, "typed").chat.completions.create(model="gpt-x", messages=MESSAGES)
    assert caught.value.status_code == 429
    assert caught.value.message == "Error code: 429 - Model gpt-x is busy"
    assert caught.value.code == "busy" and caught.value.type == "rate_limit_error"


def test_a_given_status_wins_over_the_type(server: MockServer) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client(server, "typed-with-status").chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 418 and caught.value.type == "server_error"


def test_fail_twice_then_succeed_with_sdk_retries(server: MockServer) -> None:
    client = openai_client(server, "retry", max_retries=2)
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "Third time lucky."


async def test_fail_twice_then_succeed_async(server: MockServer) -> None:
    client = async_openai_client(server, "retry", max_retries=2)
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "Third time lucky."
    await client.close()


def test_one_retry_is_not_enough(server: MockServer) -> None:
    with pytest.raises(openai.InternalServerError):
        openai_client(server, "retry", max_retries=1).chat.completions.create(
            model="m", messages=MESSAGES, stream=True
        )


def test_rate_limit_body_and_headers(server: MockServer) -> None:
    client = openai_client(server, "rate-limited")
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert caught.value.body == {
        "message": "Slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert caught.value.response.headers["retry-after-ms"] == "10"
