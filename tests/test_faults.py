"""Connection faults and in-band errors mid-stream, as the real SDK experiences
them: disconnect, reset, stall, error, end."""

from __future__ import annotations

import time

import openai
import pytest

from helpers import MESSAGES, ServeFactory, async_openai_client, openai_client
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: drop
    split: words
    stream:
      - text: "one two three"
      - disconnect
  - name: rst
    stream:
      - text: "half"
      - reset
  - name: stall
    stream:
      - text: "thinking"
      - stall
  - name: stall-briefly
    stream:
      - text: "thinking"
      - stall: {for: 200ms}
  - name: in-band-error
    stream:
      - text: "partial"
      - error: {message: boom, type: server_error, code: oops}
  - name: clean-end
    stream:
      - text: "no terminator"
      - end
  - name: drop-before-anything
    stream:
      - disconnect
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS)


def collect(server: MockServer, name: str, seen: list[str], **options: object) -> None:
    client = openai_client(server, name, **options)
    for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        seen.append(chunk.choices[0].delta.content or "")


def test_disconnect_mid_stream_raises_connection_error(server: MockServer) -> None:
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        collect(server, "drop", seen, max_retries=2)  # failures after the stream began are not retried
    assert seen == ["", "one", " two", " three"]
    assert "incomplete chunked read" in str(caught.value.__cause__)


async def test_disconnect_async(server: MockServer) -> None:
    client = async_openai_client(server, "drop")
    seen = []
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content)
    assert seen[1:] == ["one", " two", " three"]
    await client.close()


def test_reset_is_a_tcp_rst(server: MockServer) -> None:
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        collect(server, "rst", seen)
    assert "reset" in str(caught.value.__cause__).lower()
    assert "half" in seen


def test_stall_meets_the_client_timeout(server: MockServer) -> None:
    seen: list[str] = []
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        collect(server, "stall", seen, timeout=0.5)
    assert 0.4 < time.monotonic() - started < 5
    assert seen == ["", "thinking"]


def test_stall_for_a_while_then_drop(server: MockServer) -> None:
    seen: list[str] = []
    started = time.monotonic()
    with pytest.raises(openai.APIConnectionError):
        collect(server, "stall-briefly", seen, timeout=5)
    assert 0.15 < time.monotonic() - started < 3


def test_in_band_error_raises_api_error(server: MockServer) -> None:
    seen: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        collect(server, "in-band-error", seen)
    assert not isinstance(caught.value, openai.APIStatusError)
    assert caught.value.message == "boom" and caught.value.code == "oops"
    assert seen == ["", "partial"]


async def test_in_band_error_async(server: MockServer) -> None:
    client = async_openai_client(server, "in-band-error")
    with pytest.raises(openai.APIError, match="boom"):
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async for _ in stream:
            pass
    await client.close()


def test_clean_end_without_done_finishes_normally(server: MockServer) -> None:
    seen: list[str] = []
    collect(server, "clean-end", seen)
    assert seen == ["", "no terminator"]


def test_non_stream_requests_meet_the_same_faults(server: MockServer) -> None:
    for name, error in [("drop", openai.APIConnectionError), ("rst", openai.APIConnectionError)]:
        with pytest.raises(error):
            openai_client(server, name).chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.InternalServerError, match="boom"):
        openai_client(server, "in-band-error").chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.APITimeoutError):
        openai_client(server, "stall", timeout=0.3).chat.completions.create(model="m", messages=MESSAGES)


def test_a_drop_before_any_response_is_retried_by_the_sdk(server: MockServer) -> None:
    # With no response at all the SDK retries, then gives up with APIConnectionError.
    with pytest.raises(openai.APIConnectionError):
        openai_client(server, "drop-before-anything", max_retries=1).chat.completions.create(
            model="m", messages=MESSAGES
        )


def test_readme_says_what_each_sdk_raises_on_a_drop(server: MockServer) -> None:
    # openai 3 wraps the transport's error; 1.x and 2.x let it through: README says both
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith("| `disconnect` |")]
    with pytest.raises(Exception) as caught:
        collect(server, "drop", [])
    raised = caught.value
    cause = raised.__cause__ if isinstance(raised, openai.APIConnectionError) else raised
    assert type(cause).__name__ == "RemoteProtocolError"
    assert f"`httpx.{type(cause).__name__}`" in row
    if isinstance(raised, openai.APIConnectionError):  # openai 3 and later
        assert "openai ≥ 3 raises `APIConnectionError`" in row
    assert "openai 1.x and 2.x raise `httpx.RemoteProtocolError` unwrapped" in row
