"""Which scenario answers: path prefix, header, match rules, default,
auto-responder, and the 404 for an unknown name."""

from __future__ import annotations

import openai
import pytest

from helpers import MESSAGES, ServeFactory, openai_client
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: named-only
    stream: [{text: named}]
  - name: weather
    match: {text: "(?i)weather", tools: get_weather}
    stream: [{text: weather-rule}]
  - name: by-model
    match: {model: "claude-*"}
    stream: [{text: model-rule}]
  - name: by-body
    match: {body: {temperature: 0.5, metadata.team: {regex: "^plat"}, stop: {contains: END}}}
    stream: [{text: body-rule}]
  - name: by-header
    match: {headers: {x-tenant: "acme-*"}}
    stream: [{text: header-rule}]
  - name: non-stream-only
    match: {stream: false, text: "^plain"}
    stream: [{text: non-stream-rule}]
  - name: low
    match: {text: "^both"}
    stream: [{text: low-priority}]
  - name: high
    match: {text: "^both", priority: 5}
    stream: [{text: high-priority}]
  - name: sequence
    responses:
      - stream: [{text: first}]
      - stream: [{text: second}]
  - name: cycling
    then: cycle
    responses:
      - stream: [{text: A}]
      - stream: [{text: B}]
"""
WEATHER_TOOL = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


def text(server: MockServer, scenario: str | None = None, *, stream: bool = False, **request: object) -> str:
    client = openai_client(server, scenario)
    request.setdefault("messages", MESSAGES)
    request.setdefault("model", "gpt-4o")
    if stream:
        chunks = client.chat.completions.create(stream=True, **request)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return str(client.chat.completions.create(**request).choices[0].message.content)


def say(words: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": words}]


def test_path_prefix_names_the_scenario(server: MockServer) -> None:
    assert text(server, "named-only") == "named"


def test_header_names_the_scenario(server: MockServer) -> None:
    assert text(server, extra_headers={"X-Mock-Scenario": "named-only"}) == "named"


def test_match_on_text_and_tools(server: MockServer) -> None:
    assert text(server, messages=say("What's the weather?"), tools=WEATHER_TOOL) == "weather-rule"
    # the text alone is not enough: the rule also wants the tool offered
    assert text(server, messages=say("What's the weather?")) != "weather-rule"


def test_match_on_model_body_and_headers(server: MockServer) -> None:
    assert text(server, model="claude-sonnet-4-5") == "model-rule"
    body = {"temperature": 0.5, "metadata": {"team": "platform"}, "stop": ["x", "END"]}
    assert (
        text(server, **{k: v for k, v in body.items() if k != "metadata"}, metadata=body["metadata"])
        == "body-rule"
    )
    assert text(server, temperature=0.5, metadata={"team": "web"}, stop=["END"]) != "body-rule"
    assert text(server, extra_headers={"X-Tenant": "acme-eu"}) == "header-rule"


def test_match_on_stream(server: MockServer) -> None:
    assert text(server, messages=say("plain please")) == "non-stream-rule"
    assert text(server, messages=say("plain please"), stream=True) != "non-stream-rule"


def test_priority_wins_over_file_order(server: MockServer) -> None:
    assert text(server, messages=say("both match")) == "high-priority"


def test_unmatched_requests_get_the_auto_responder(server: MockServer) -> None:
    reply = text(server, messages=say("tell me something"), stream=True)
    assert len(reply.split()) >= 5


def test_auto_responder_calls_a_required_tool(server: MockServer) -> None:
    client = openai_client(server)
    with client.chat.completions.stream(
        model="m", messages=MESSAGES, tools=WEATHER_TOOL, tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert final.choices[0].finish_reason == "tool_calls"


def test_default_scenario(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0, default="named-only")
    assert text(server, messages=say("anything")) == "named"
    assert text(server, model="claude-x") == "model-rule"  # a matching rule still comes first


def test_unknown_name_is_a_404_listing_the_scenarios(server: MockServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        text(server, "named-onyl")
    message = caught.value.body["message"]
    assert "named-onyl" in message and "did you mean 'named-only'" in message
    assert "weather" in message and "cycling" in message
    assert caught.value.body["code"] == "scenario_not_found"


def test_responses_in_sequence_then_the_last_repeats(server: MockServer) -> None:
    assert [text(server, "sequence") for _ in range(4)] == ["first", "second", "second", "second"]


def test_then_cycle(server: MockServer) -> None:
    assert [text(server, "cycling") for _ in range(5)] == ["A", "B", "A", "B", "A"]
