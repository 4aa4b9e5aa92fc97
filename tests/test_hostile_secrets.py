"""The journal never keeps a credential as sent: keys are masked (enough to tell
them apart), cookies hidden, over the admin API and in the fixture alike."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve("{name: x, stream: [{text: x}]}", time_scale=0, default="x")


def test_credentials_are_masked_in_the_journal(server: MockServer) -> None:
    openai_client(server).with_options(api_key="sk-proj-abcdefghijklmnop1234").chat.completions.create(
        model="m", messages=MESSAGES
    )
    with anthropic.Anthropic(
        base_url=server.url, api_key="sk-ant-api03-secretsecretWXYZ", max_retries=0
    ) as claude:
        claude.messages.create(
            model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    httpx.post(
        server.url + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES},
        headers={"Cookie": "session=abcdef", "api-key": "azurekey12345678"},
    )
    first, second, third = (entry.headers for entry in server.requests)
    assert first["authorization"] == "Bearer sk-…1234"
    # anthropic 2.x sends its key as a Bearer token, earlier versions as x-api-key
    assert second.get("x-api-key", second.get("authorization")) in ("sk-…WXYZ", "Bearer sk-…WXYZ")
    assert third["cookie"] == "…" and third["api-key"] == "azu…5678"
    journal = httpx.get(server.url + "/_mock/requests").text
    assert "abcdefghijklmnop" not in journal and "secretsecret" not in journal
