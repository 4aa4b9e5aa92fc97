"""Every API the contract knows records and replays: a mockserver serving the example
scenarios is the upstream; what each API's real SDK sees directly, through the
recorder, and replayed from the recording with the upstream stopped is the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sdks import OBSERVERS, PROMPT, TOOL, Seen

from helpers import bedrock_client, closing
from mockserver import MockServer

SCENARIOS = Path(__file__).parent.parent / "scenarios"

NAMES = [
    "hello-stream",
    "weather-tool-call",
    "parallel-tool-calls",
    "thinking-then-answer",
    "refusal",
    "cut-off-by-length",
]


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    with MockServer([SCENARIOS], time_scale=0) as server:
        yield server


def without_ids(seen: Seen) -> Seen:
    """What the SDK saw, but the answer's own ids (the upstream makes new ones per
    request) and a refusal before a retry (only the recorder's request got the 503)."""
    return [(kind, value) for kind, value in seen if kind not in ("id", "model", "error")]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("api", list(OBSERVERS))
def test_recorded_and_replayed_the_sdk_sees_what_the_upstream_sent(
    upstream: MockServer, tmp_path: Path, api: str, name: str
) -> None:
    """Through the recorder first (weather-tool-call's 503 and the SDK's retry are both
    recorded, as the turn's two answers), then directly; then the replay, which has
    the recorded ids too."""
    observe = OBSERVERS[api]
    with MockServer(upstream=upstream.url_for(name), record_to=str(tmp_path)) as recorder:
        through = observe(recorder.url)
        assert recorder.take_failures() == []
    direct = observe(upstream.url_for(name))
    assert without_ids(through) == without_ids(direct)
    with MockServer([tmp_path], strict=True) as replay:
        assert observe(replay.url) == through
        assert replay.take_misses() == []


def whole(api: str, base: str) -> Any:
    """A whole (not streamed) answer, as the SDK gives it, less the answer's own ids."""
    import ollama as sdk
    from anthropic import Anthropic
    from openai import OpenAI

    if api == "ollama":
        reply = closing(sdk.Client(host=base)).chat(
            model="llama3.2",
            messages=[{"role": "user", "content": PROMPT}],
            tools=[{"type": "function", "function": TOOL}],
        )
        return reply.model_dump(exclude={"created_at"})
    if api == "gemini":
        from google import genai
        from google.genai import types

        gemini_client = closing(genai.Client(api_key="k", http_options={"base_url": base}))
        config = types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration(**TOOL)])],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        answer = gemini_client.models.generate_content(
            model="gemini-2.5-flash", contents=PROMPT, config=config
        )
        calls = [(c.name, c.args) for c in answer.function_calls or ()]
        return (
            answer.text,
            calls,
            answer.candidates[0].finish_reason.value,
            answer.usage_metadata.total_token_count,
        )
    if api == "bedrock":
        aws = bedrock_client(base)
        reply = aws.converse(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": PROMPT}]}]
        )
        content = [
            {k: v for k, v in b.items() if k != "toolUse"} or b["toolUse"]["input"]
            for b in reply["output"]["message"]["content"]
        ]
        return content, reply["stopReason"], reply["usage"]
    if api == "anthropic":
        client = closing(Anthropic(base_url=base, api_key="sk-x", max_retries=2, timeout=10.0))
        message = client.messages.create(
            model="claude-test",
            max_tokens=200,
            messages=[{"role": "user", "content": PROMPT}],
            tools=[{"name": TOOL["name"], "input_schema": TOOL["parameters"]}],
        )
        return [
            block.model_dump(exclude={"id", "signature"}) for block in message.content
        ], message.stop_reason
    client = closing(OpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=2, timeout=10.0))
    if api == "azure":
        from openai import AzureOpenAI

        client = closing(
            AzureOpenAI(azure_endpoint=base, azure_deployment="gpt4o", api_version="2024-10-21", api_key="k")
        )
    if api == "responses":
        response = client.responses.create(
            model="gpt-4o-mini", input=PROMPT, tools=[{"type": "function", **TOOL}]
        )
        return response.output_text, [(i.type, getattr(i, "arguments", None)) for i in response.output]
    if api == "completions":
        completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT)
        return completion.choices[0].text, completion.choices[0].finish_reason
    answer = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": PROMPT}],
        tools=[{"type": "function", "function": TOOL}],
    )
    message = answer.choices[0].message
    calls = [(c.function.name, c.function.arguments) for c in message.tool_calls or ()]
    return (
        message.content,
        calls,
        answer.choices[0].finish_reason,
        answer.usage and answer.usage.completion_tokens,
    )


NO_RETRIES = ("ollama", "gemini")  # clients that do not retry a 503 by default


@pytest.mark.parametrize("name", ["hello-stream", "weather-tool-call"])
@pytest.mark.parametrize("api", list(OBSERVERS))
def test_whole_answers_record_and_replay_on_every_api(
    upstream: MockServer, tmp_path: Path, api: str, name: str
) -> None:
    with MockServer(upstream=upstream.url_for(name), record_to=str(tmp_path)) as recorder:
        if api in NO_RETRIES and name == "weather-tool-call":
            with pytest.raises(Exception, match="overloaded"):  # the client does not retry
                whole(api, recorder.url)
        through = whole(api, recorder.url)
    with MockServer([tmp_path], strict=True) as replay:
        if api in NO_RETRIES and name == "weather-tool-call":
            with pytest.raises(Exception, match="overloaded"):
                whole(api, replay.url)
        assert whole(api, replay.url) == through
        assert replay.take_misses() == []
    assert through == whole(api, upstream.url_for(name))


def test_a_responses_loop_on_previous_response_id_records_and_replays(tmp_path: Path) -> None:
    """The second turn names the first answer by id: the recorder keeps what it recorded,
    as the replay keeps what it plays, so the turn is known both times."""
    from openai import OpenAI

    from helpers import WEATHER_AGENT
    from mockserver.scenario import load_text

    def loop(base: str) -> list[Any]:
        client = closing(OpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=0, timeout=10.0))
        tools = [{"type": "function", **TOOL}]
        first = client.responses.create(model="gpt-4o-mini", input="weather in Paris?", tools=tools)
        (call,) = [item for item in first.output if item.type == "function_call"]
        second = client.responses.create(
            model="gpt-4o-mini",
            previous_response_id=first.id,
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
            tools=tools,
        )
        return [first.id, call.arguments, second.id, second.output_text]

    with MockServer(load_text(WEATHER_AGENT, "<agent>"), strict=True) as upstream:
        with MockServer(upstream=upstream.url, record_to=str(tmp_path)) as recorder:
            recorded = loop(recorder.url)
            assert recorder.take_failures() == []
    assert recorded[3] == "It is sunny in Paris."
    (file,) = tmp_path.glob("*.yaml")
    assert file.read_text().count("- match: {turn: ") == 2
    with MockServer([tmp_path], strict=True) as replay:
        assert loop(replay.url) == recorded
        assert replay.take_misses() == []
