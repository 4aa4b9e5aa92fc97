"""Content steps (text, split, fake, refusal, reasoning) and tool calls, as the real
openai SDK sees them."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from helpers import MESSAGES, ServeFactory, async_openai_client, openai_client
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: words
    stream:
      - text: "Hello brave new world. "
        split: words
  - name: chars
    stream:
      - text: "abc"
        split: chars
  - name: sized
    split: 4
    stream:
      - text: "abcdefghij"
  - name: fragments
    stream:
      - text: "Hello world"
        split: ["Hel", "lo wo", "rld"]
  - name: faked
    seed: 5
    stream:
      - fake: sentence
        split: words
  - name: refused
    stream:
      - refusal: "I can't do that."
        split: words
  - name: reasoned
    stream:
      - reasoning: "Let me think."
      - text: "Answer."
  - name: tool
    stream:
      - text: "Checking. "
      - tool_call: {name: get_weather, arguments: {location: Tokyo, unit: celsius}, pieces: 5}
  - name: tool-string-args
    stream:
      - tool_call: {name: lookup, id: call_fixed, arguments: '{"q": "caf\\u00e9"}', split: [3, 5]}
  - name: parallel
    stream:
      - tool_call: {name: a, arguments: '{"x":', index: 0}
      - tool_call: {name: b, arguments: '{"y":2}', index: 1}
      - tool_call: {index: 0, arguments: '1}'}
  - name: fake-args
    stream:
      - tool_call: {name: book, arguments: fake}
  - name: legacy
    stream:
      - function_call: {name: get_current_weather, arguments: {location: Boston}, pieces: 3}
  - name: cut-short
    stream:
      - text: "This goes on"
      - finish: length
  - name: counted
    stream:
      - text: "one two three"
      - usage: {input: 7, output: 3}
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0)


def deltas(server: MockServer, name: str, **extra: Any) -> list[Any]:
    client = openai_client(server, name)
    return list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, **extra))


def contents(chunks: list[Any]) -> list[str]:
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


def test_split_words_keeps_spaces_with_words(server: MockServer) -> None:
    assert contents(deltas(server, "words")) == ["Hello", " brave", " new", " world. "]


def test_split_chars_size_and_fragments(server: MockServer) -> None:
    assert contents(deltas(server, "chars")) == ["a", "b", "c"]
    assert contents(deltas(server, "sized")) == ["abcd", "efgh", "ij"]
    assert contents(deltas(server, "fragments")) == ["Hel", "lo wo", "rld"]


def test_first_chunk_has_the_role_and_last_the_finish(server: MockServer) -> None:
    chunks = deltas(server, "words")
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.role for c in chunks[1:]] == [None] * (len(chunks) - 1)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert {c.id for c in chunks} == {chunks[0].id} and chunks[0].object == "chat.completion.chunk"
    assert {c.model for c in chunks} == {"gpt-4o"}  # the request's model, echoed


def test_fake_text_is_seeded(server: MockServer, serve: ServeFactory) -> None:
    first = "".join(contents(deltas(server, "faked")))
    again = "".join(contents(deltas(serve(SCENARIOS, time_scale=0), "faked")))
    assert len(first.split()) >= 3 and first == again


def test_refusal(server: MockServer) -> None:
    client = openai_client(server, "refused")
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.refusal == "I can't do that."
    assert not final.choices[0].message.content


def test_reasoning_is_skipped_on_chat(server: MockServer) -> None:
    assert contents(deltas(server, "reasoned")) == ["Answer."]


def test_tool_call_arguments_in_pieces(server: MockServer) -> None:
    chunks = deltas(server, "tool")
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    assert len(calls) == 6  # the header (id, name, "") and five argument pieces
    assert calls[0][0].id.startswith("call_") and calls[0][0].function.name == "get_weather"
    assert all(call[0].id is None and call[0].function.name is None for call in calls[1:])
    joined = "".join(call[0].function.arguments for call in calls)
    assert json.loads(joined) == {"location": "Tokyo", "unit": "celsius"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"  # added for us


def test_stream_helper_accumulates_tool_calls(server: MockServer) -> None:
    client = openai_client(server, "tool")
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Checking. "
    assert json.loads(message.tool_calls[0].function.arguments) == {"location": "Tokyo", "unit": "celsius"}
    assert "tool_calls.function.arguments.done" in events


def test_string_arguments_cut_at_lengths(server: MockServer) -> None:
    chunks = deltas(server, "tool-string-args")
    pieces = [
        c.choices[0].delta.tool_calls[0].function.arguments for c in chunks if c.choices[0].delta.tool_calls
    ]
    assert pieces == ["", '{"q', '": "c', 'af\\u00e9"}']
    assert (
        chunks[1].choices[0].delta.tool_calls[0].id == "call_fixed"
        or chunks[0].choices[0].delta.tool_calls[0].id == "call_fixed"
    )


def test_parallel_interleaved_tool_calls(server: MockServer) -> None:
    client = openai_client(server, "parallel")
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("a", {"x": 1}),
        ("b", {"y": 2}),
    ]
    assert len({c.id for c in calls}) == 2


def test_fake_arguments_follow_the_tool_schema(server: MockServer) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "book",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "nights": {"type": "integer", "minimum": 1, "maximum": 9},
                        "room": {"type": "string", "enum": ["single", "double"]},
                        "guests": {"type": "array", "items": {"type": "string", "format": "email"}},
                    },
                    "required": ["city", "nights"],
                },
            },
        }
    ]
    client = openai_client(server, "fake-args")
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, tools=tools) as stream:
        final = stream.get_final_completion()
    args = json.loads(final.choices[0].message.tool_calls[0].function.arguments)
    assert isinstance(args["city"], str) and args["city"]
    assert 1 <= args["nights"] <= 9 and args["room"] in ("single", "double")
    assert all("@" in guest for guest in args["guests"])


def test_legacy_function_call(server: MockServer) -> None:
    chunks = deltas(server, "legacy")
    calls = [c.choices[0].delta.function_call for c in chunks if c.choices[0].delta.function_call]
    assert calls[0].name == "get_current_weather"
    assert json.loads("".join(c.arguments for c in calls)) == {"location": "Boston"}
    assert chunks[-1].choices[0].finish_reason == "function_call"


def test_finish_length_raises_in_the_stream_helper(server: MockServer) -> None:
    client = openai_client(server, "cut-short")
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        with pytest.raises(openai.LengthFinishReasonError):
            stream.get_final_completion()


def test_usage_only_when_the_request_asks(server: MockServer) -> None:
    plain = deltas(server, "counted")
    assert all(c.choices for c in plain)  # no usage-only chunk: choices[0] always works
    asked = deltas(server, "counted", stream_options={"include_usage": True})
    assert asked[-1].choices == [] and asked[-1].usage.prompt_tokens == 7
    assert asked[-1].usage.completion_tokens == 3 and asked[-1].usage.total_tokens == 10
    assert all(c.usage is None for c in asked[:-1])


def test_auto_usage_counts_words(serve: ServeFactory) -> None:
    server = serve("{name: s, stream: [{text: one two three four}]}", time_scale=0)
    chunks = deltas(server, "s", stream_options={"include_usage": True})
    assert chunks[-1].usage.completion_tokens == 4 and chunks[-1].usage.prompt_tokens == 1


async def test_async_client_streams_the_same(server: MockServer) -> None:
    client = async_openai_client(server, "words")
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    got = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert got == ["Hello", " brave", " new", " world. "]
    await client.close()


async def test_async_stream_helper(server: MockServer) -> None:
    client = async_openai_client(server, "tool")
    async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.name == "get_weather"
    await client.close()
