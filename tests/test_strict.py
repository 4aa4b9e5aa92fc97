"""Strict mode: a request no scenario takes gets a 404 in the API's own
error shape that names, per scenario, the first `match` key that failed and why."""

from __future__ import annotations

import anthropic
import openai
import pytest

from helpers import ServeFactory, openai_client
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: weather-agent
    match: {text: "(?i)weather"}
    stream: [{text: sunny}]
  - name: claude-only
    match: {model: "claude-*"}
    stream: [{text: claude}]
  - name: needs-tool
    match: {tools: get_time}
    stream: [{text: time}]
  - name: body-rule
    match: {body: {temperature: 0}}
    stream: [{text: cold}]
  - name: named-only
    stream: [{text: named}]
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0, strict=True)


def test_a_miss_explains_every_scenario(server: MockServer) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(server).chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hello"}],
            tools=[tool],
            temperature=0.5,  # type: ignore[list-item]
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "no_scenario_matched"
    message = error["message"]
    assert message.startswith("mockserver (strict): no scenario answers POST /v1/chat/completions. ")
    assert "weather-agent: text '(?i)weather' not found in last user message 'hello'" in message
    assert "claude-only: model 'gpt-4o' does not match 'claude-*'" in message
    assert "needs-tool: tools: no tool named 'get_time' offered (offered: lookup)" in message
    assert "body-rule: body.temperature is 0.5, not 0" in message
    assert "named-only: no match rule: it answers only when named" in message
    assert server.take_misses() == [message]


def test_a_match_is_answered_as_usual(server: MockServer) -> None:
    reply = openai_client(server).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Weather in Paris?"}]
    )
    assert reply.choices[0].message.content == "sunny"
    assert server.take_misses() == []


def test_the_404_is_in_each_apis_shape(server: MockServer) -> None:
    with anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0) as claude:
        with pytest.raises(anthropic.NotFoundError) as caught:
            claude.messages.create(model="gpt-x", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["type"] == "error"  # type: ignore[index]
    assert "claude-only: model 'gpt-x' does not match 'claude-*'" in str(caught.value)


def test_not_strict_keeps_the_auto_responder(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0)
    reply = openai_client(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}]
    )
    assert reply.choices[0].message.content


def test_serve_strict_flag() -> None:
    from mockserver.cli import _parser

    assert _parser().parse_args(["serve", "--strict"]).strict is True
    assert _parser().parse_args(["serve"]).strict is False
