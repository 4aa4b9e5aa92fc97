"""Every example in scenarios/ does what its description says, through the real SDK."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from httpx_sse import connect_sse

from helpers import MESSAGES, bedrock_client, openai_client
from mockserver import MockServer, load_scenarios

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([SCENARIOS], time_scale=0) as running:
        yield running


def stream_text(server: MockServer, name: str, **options: Any) -> str:
    client = openai_client(server, name, **options)
    chunks = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def final(server: MockServer, name: str, **request: Any) -> Any:
    client = openai_client(server, name, max_retries=2)
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, **request) as stream:
        return stream.get_final_completion().choices[0]


def raises(error: type[BaseException], **options: Any) -> Callable[[MockServer, str], None]:
    def check(server: MockServer, name: str) -> None:
        with pytest.raises(error):
            stream_text(server, name, **options)

    return check


def says(expected: str, **options: Any) -> Callable[[MockServer, str], None]:
    def check(server: MockServer, name: str) -> None:
        assert stream_text(server, name, **options) == expected

    return check


def check_weather(server: MockServer, name: str) -> None:
    choice = final(server, name)  # the first attempt gets 503; the SDK retries
    call = choice.message.tool_calls[0]
    assert choice.message.content == "Let me check the weather. "
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"location": "Tokyo", "unit": "celsius"},
    )


def check_parallel(server: MockServer, name: str) -> None:
    calls = final(server, name).message.tool_calls
    assert [(c.id, json.loads(c.function.arguments)) for c in calls] == [
        ("call_paris", {"city": "Paris"}),
        ("call_tokyo", {"tz": "Asia/Tokyo"}),
    ]


def check_legacy(server: MockServer, name: str) -> None:
    message = final(server, name).message
    assert message.function_call.name == "get_current_weather"


def check_refusal(server: MockServer, name: str) -> None:
    assert final(server, name).message.refusal == "I'm sorry, I can't help with that."


def check_fake(server: MockServer, name: str) -> None:
    text = stream_text(server, name)
    assert len(text.split()) > 4 and text == stream_text(server, name)


def check_length(server: MockServer, name: str) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        final(server, name)


def check_echo(server: MockServer, name: str) -> None:
    client = openai_client(server)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "echo: hi"}], stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.startswith("You said 'echo: hi' to gpt-4o as OpenAI/Python")
    assert chunks[0].model == "gpt-4o-mock"


def check_sse_extras(server: MockServer, name: str) -> None:
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    with httpx.Client() as client:
        with connect_sse(client, "POST", server.url_for(name) + "/v1/chat/completions", json=body) as source:
            events = [(e.event, e.data) for e in source.iter_sse()]
    assert ("progress", '{"stage":"halfway"}') in events and events[-1] == ("message", "[DONE]")


def check_thinking(server: MockServer, name: str) -> None:
    import anthropic

    assert stream_text(server, name) == "The capital of France is Paris."  # chat skips reasoning
    with anthropic.Anthropic(base_url=server.url_for(name), api_key="k") as claude:
        message = claude.messages.create(
            model="claude-test", max_tokens=99, messages=[{"role": "user", "content": "x"}]
        )
    assert message.content[0].thinking.endswith("That is Paris.")


def check_error_statuses(server: MockServer, name: str) -> None:
    status = int(name.split("-")[1])
    with pytest.raises(openai.APIStatusError) as caught:
        stream_text(server, name)
    assert caught.value.status_code == status


def tool_loop(*answers: str) -> Callable[[MockServer, str], None]:
    """Run the scenario's agent loop with the openai SDK: every tool call gets a
    scripted result; the final text is checked."""

    def check(server: MockServer, name: str) -> None:
        results = {"get_weather": "sunny", "find_restaurant": "Da Mario"}
        question = "Plan my trip" if name == "agent-trip" else "Plan a dinner"
        client = openai_client(server, name, max_retries=2)
        messages: list[dict[str, object]] = [{"role": "user", "content": question}]
        for _ in range(4):  # bounded: the scenarios need two turns
            message = client.chat.completions.create(model="m", messages=messages).choices[0].message  # type: ignore[arg-type]
            if not message.tool_calls:
                break
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": results[call.function.name]}
                )  # type: ignore[union-attr]
        assert message.content in answers

    return check


def check_gemini_loop(server: MockServer, name: str) -> None:
    from google import genai
    from google.genai import types

    with genai.Client(api_key="k", http_options={"base_url": server.url_for(name)}) as gemini:
        contents: list[Any] = ["What is the forecast for Berlin?"]
        first = gemini.models.generate_content(model="gemini-2.5-flash", contents=contents)
        (call,) = first.function_calls or ()
        assert (call.name, call.args) == ("get_forecast", {"city": "Berlin", "day": "tomorrow"})
        contents = [
            types.Content(role="user", parts=[types.Part(text="What is the forecast for Berlin?")]),
            first.candidates[0].content,
            types.Content(
                role="user",
                parts=[types.Part.from_function_response(name=call.name, response={"result": "sunny"})],
            ),
        ]
        second = gemini.models.generate_content(model="gemini-2.5-flash", contents=contents)
    assert second.text == "Tomorrow in Berlin: sunny."


def check_bedrock_loop(server: MockServer, name: str) -> None:
    client = bedrock_client(server.url_for(name))
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "Where is my order?"}]}]
    stream = client.converse_stream(modelId="amazon.nova-pro-v1:0", messages=messages)["stream"]
    fragments = [
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in stream
        if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert len(fragments) == 3 and json.loads("".join(fragments)) == {"order_id": "A-1001"}
    first = client.converse(modelId="amazon.nova-pro-v1:0", messages=messages)["output"]["message"]
    (use,) = [b["toolUse"] for b in first["content"] if "toolUse" in b]
    messages += [
        first,
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": use["toolUseId"], "content": [{"text": "shipped"}]}}],
        },
    ]
    second = client.converse(modelId="amazon.nova-pro-v1:0", messages=messages)
    assert second["output"]["message"]["content"][0]["text"] == "Order A-1001 shipped yesterday."
    client.close()


def check_azure_filter(server: MockServer, name: str) -> None:
    from openai import AzureOpenAI

    with AzureOpenAI(
        azure_endpoint=server.url_for(name), azure_deployment="d", api_version="2024-10-21", api_key="k"
    ) as azure:
        chunks = list(azure.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    assert chunks[0].choices == []  # Azure's prompt-filter chunk
    last = [c for c in chunks if c.choices][-1].choices[0]
    assert (
        last.finish_reason == "content_filter"
        and last.model_extra["content_filter_results"]["violence"]["filtered"]
    )


EXPECTED: dict[str, Callable[[MockServer, str], None]] = {
    "agent-trip": tool_loop("It is sunny in Paris: pack accordingly."),
    "agent-two-tools": tool_loop("Book Da Mario; the weather: sunny."),
    "hello-stream": says("Hello! I am a scripted reply from mockserver, streamed one word at a time."),
    "weather-tool-call": check_weather,
    "parallel-tool-calls": check_parallel,
    "legacy-function-call": check_legacy,
    "refusal": check_refusal,
    "fake-paragraph": check_fake,
    "cut-off-by-length": check_length,
    "fail-twice-then-succeed": says("Third time lucky.", max_retries=2),
    "rate-limited": raises(openai.RateLimitError),
    "drop-after-third-chunk": raises(openai.APIConnectionError),
    "connection-reset": raises(openai.APIConnectionError),
    "stall-forever": raises(openai.APITimeoutError, timeout=0.3),
    "stall-then-drop": raises(openai.APIConnectionError),
    "error-mid-stream": raises(openai.APIError),
    "end-without-done": says("No terminator follows."),
    "sse-extras": check_sse_extras,
    "malformed-chunk": raises(json.JSONDecodeError),
    "byte-level-chaos": says("Split across many small network writes."),
    "echo-request": check_echo,
    "thinking-then-answer": check_thinking,
    "gemini-function-call": check_gemini_loop,
    "bedrock-tool-use": check_bedrock_loop,
    "azure-content-filter": check_azure_filter,
    **{f"error-{code}": check_error_statuses for code in (400, 401, 403, 404, 409, 422, 429, 500, 503)},
}


def test_every_example_has_an_expectation() -> None:
    assert {s.name for s in load_scenarios([SCENARIOS])} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(server: MockServer, name: str) -> None:
    EXPECTED[name](server, name)
