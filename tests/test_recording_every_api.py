"""Every API the contract knows records and replays: a mockserver serving the example
scenarios is the upstream; what each API's real SDK sees directly, through the
recorder, and replayed from the recording with the upstream stopped is the same."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import closing
from mockserver import MockServer

SCENARIOS = Path(__file__).parent.parent / "scenarios"
PROMPT = "What is the weather in Paris?"
TOOL = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
Seen = list[tuple[str, Any]]


def chat(base: str) -> Seen:
    from openai import OpenAI

    client = closing(OpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=2, timeout=10.0))
    seen: Seen = []
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
        tools=[{"type": "function", "function": TOOL}],
    )
    with stream:
        for chunk in stream:
            seen.append(("id", chunk.id))
            if chunk.usage:
                seen.append(("usage", (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)))
            for choice in chunk.choices:
                delta = choice.delta
                seen += [("text", delta.content)] if delta.content else []
                seen += [("refusal", delta.refusal)] if delta.refusal else []
                for call in delta.tool_calls or ():
                    seen.append(("id", call.id))
                    seen.append(("call", (call.index, call.function and call.function.name)))
                    seen.append(("args", call.function and call.function.arguments))
                seen += [("finish", choice.finish_reason)] if choice.finish_reason else []
    return seen


def responses(base: str) -> Seen:
    from openai import OpenAI

    client = closing(OpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=2, timeout=10.0))
    seen: Seen = []
    stream = client.responses.create(
        model="gpt-4o-mini", input=PROMPT, stream=True, tools=[{"type": "function", **TOOL}]
    )
    with stream:
        for event in stream:
            if event.type == "response.created":
                seen.append(("id", (event.response.id, event.response.created_at, event.response.model)))
            elif event.type.endswith(".delta"):
                seen.append((event.type, event.delta))  # type: ignore[union-attr]
            elif event.type == "response.output_item.added" and event.item.type == "function_call":
                seen += [("id", event.item.call_id), ("call", event.item.name)]
            elif event.type in ("response.completed", "response.incomplete", "response.failed"):
                usage = event.response.usage
                seen.append(("end", (event.type, usage and (usage.input_tokens, usage.output_tokens))))
    return seen


def anthropic(base: str) -> Seen:
    from anthropic import Anthropic

    client = closing(Anthropic(base_url=base, api_key="sk-x", max_retries=2, timeout=10.0))
    seen: Seen = []
    stream = client.messages.create(
        model="claude-test",
        max_tokens=200,
        messages=[{"role": "user", "content": PROMPT}],
        tools=[{"name": TOOL["name"], "input_schema": TOOL["parameters"]}],
        stream=True,
    )
    with stream:
        for event in stream:
            if event.type == "message_start":
                seen.append(("id", (event.message.id, event.message.model)))
            elif event.type == "content_block_start":
                block = event.content_block
                seen += [
                    ("id", getattr(block, "id", None)),
                    ("block", (block.type, getattr(block, "name", None))),
                ]
            elif event.type == "content_block_delta" and event.delta.type != "signature_delta":
                seen.append((event.delta.type, event.delta.model_dump()))
            elif event.type == "message_delta":
                seen.append(("end", (event.delta.stop_reason, event.usage.output_tokens)))
    return seen


def completions(base: str) -> Seen:
    from openai import OpenAI

    client = closing(OpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=2, timeout=10.0))
    seen: Seen = []
    stream = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, stream=True)
    with stream:
        for chunk in stream:
            seen.append(("id", (chunk.id, chunk.created, chunk.model)))
            seen += [("text", c.text) for c in chunk.choices if c.text]
            seen += [("finish", c.finish_reason) for c in chunk.choices if c.finish_reason]
    return seen


def ollama(base: str) -> Seen:
    import ollama as sdk

    client = closing(sdk.Client(host=base))
    seen: Seen = []
    for _ in range(2):  # the ollama client does not retry: a 503 is tried once more here
        try:
            parts = list(
                client.chat(
                    model="llama3.2",
                    messages=[{"role": "user", "content": PROMPT}],
                    tools=[{"type": "function", "function": TOOL}],
                    stream=True,
                )
            )
        except sdk.ResponseError as error:
            seen.append(("error", error.status_code))
            continue
        break
    for part in parts:
        seen.append(("model", (part.model, part.created_at)))
        message = part.message
        seen += [("text", message.content)] if message.content else []
        seen += [("thinking", message.thinking)] if message.thinking else []
        for call in message.tool_calls or ():
            seen.append(("call", (call.function.name, dict(call.function.arguments))))
        if part.done:
            seen.append(("done", (part.done_reason, part.prompt_eval_count, part.eval_count)))
    return seen


def gemini(base: str) -> Seen:
    from google import genai
    from google.genai import errors, types

    client = closing(genai.Client(api_key="k", http_options={"base_url": base, "api_version": "v1beta"}))
    seen: Seen = []
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(**TOOL)])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    for _ in range(2):  # google-genai does not retry by default: a 503 is tried once more here
        try:
            chunks = list(
                client.models.generate_content_stream(
                    model="gemini-2.5-flash", contents=PROMPT, config=config
                )
            )
        except errors.APIError as error:
            seen.append(("error", error.code))
            continue
        break
    for chunk in chunks:
        seen.append(("id", (chunk.response_id, chunk.model_version)))
        candidate = chunk.candidates[0]
        for part in candidate.content.parts if candidate.content else ():
            if part.function_call is not None:
                seen.append(("call", (part.function_call.name, part.function_call.args)))
            elif part.text:
                seen.append(("thought" if part.thought else "text", part.text))
        if candidate.finish_reason is not None:
            usage = chunk.usage_metadata
            seen.append(
                (
                    "end",
                    (candidate.finish_reason.value, usage.prompt_token_count, usage.candidates_token_count),
                )
            )
    return seen


@contextlib.contextmanager
def closing_stream(stream: Any) -> Iterator[None]:
    """A botocore event stream closed however reading it ends (else its socket is left
    to the garbage collector, which warns)."""
    try:
        yield
    finally:
        stream.close()


def bedrock(base: str) -> Seen:
    import boto3

    client = closing(
        boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=base,
            aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
        )
    )
    seen: Seen = []
    tool = {"toolSpec": {"name": TOOL["name"], "inputSchema": {"json": TOOL["parameters"]}}}
    answer = client.converse_stream(
        modelId="anthropic.claude-3-5-sonnet-20240620-v1:0",
        messages=[{"role": "user", "content": [{"text": PROMPT}]}],
        toolConfig={"tools": [tool]},
    )
    stream = answer["stream"]
    with closing_stream(stream):
        events = list(stream)
    for event in events:
        start = event.get("contentBlockStart", {}).get("start", {}).get("toolUse")
        if start is not None:
            seen += [("id", start["toolUseId"]), ("call", start["name"])]
        elif "metadata" in event:  # its latency is measured, not recorded
            seen.append(("usage", event["metadata"]["usage"]))
        else:
            seen.append(("event", event))
    return seen


OBSERVERS: dict[str, Callable[[str], Seen]] = {
    "chat": chat,
    "responses": responses,
    "anthropic": anthropic,
    "completions": completions,
    "ollama": ollama,
    "gemini": gemini,
    "bedrock": bedrock,
}
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
        import boto3

        aws = closing(
            boto3.client(
                "bedrock-runtime",
                region_name="us-east-1",
                endpoint_url=base,
                aws_access_key_id="AKIDTEST",
                aws_secret_access_key="secret",
            )
        )
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
