"""What each API's real SDK shows of one streamed answer to PROMPT (offering TOOL),
as a list of (kind, value): the observers the every-API tests compare."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from helpers import bedrock_client, closing

PROMPT = "What is the weather in Paris?"
TOOL = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
Seen = list[tuple[str, Any]]


def chat(base: str) -> Seen:
    from openai import OpenAI

    return chat_seen(closing(OpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=2, timeout=10.0)))


def azure(base: str) -> Seen:
    from openai import AzureOpenAI

    client = AzureOpenAI(
        azure_endpoint=base, azure_deployment="gpt4o", api_version="2024-10-21", api_key="k", max_retries=2
    )
    return [(kind, value) for kind, value in chat_seen(closing(client)) if kind != "id" or value]


def chat_seen(client: Any) -> Seen:
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
    client = bedrock_client(base)
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
    "azure": azure,
}
