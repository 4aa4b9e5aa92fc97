"""Bedrock Runtime, as boto3 sees it over a real socket (endpoint_url at the mock,
dummy credentials): ConverseStream and Converse, invoke-with-response-stream with an
Anthropic model, errors as exception frames and as AWS error bodies, a toolUse /
toolResult loop; and our event-stream frames read by botocore's own parser."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import bedrock_client
from mockserver import MockServer
from mockserver.cli import main
from mockserver.render.eventstream import event_frame
from mockserver.scenario import load_text

SCENARIOS = """
name: weather
match: {text: "(?i)weather"}
conversation:
  - stream:
      - text: "Let me check. "
        split: words
      - tool_call: {name: get_weather, arguments: {city: Paris, unit: celsius}, pieces: 3}
      - finish: tool_calls
      - usage: {input: 12, output: 9}
  - match: {tool_result: {name: get_weather, contains: sunny}}
    stream:
      - text: "It is sunny in Paris."
        split: words
---
name: throttled
match: {text: "(?i)busy"}
status: 429
error: {message: "Too many requests, please wait before trying again."}
---
name: broken
match: {text: "(?i)broken"}
stream:
  - text: "Half an answer"
  - error: {message: "Too many requests", type: rate_limit_error}
---
name: cut
match: {text: "(?i)cut"}
stream:
  - text: "Half"
  - reset
"""
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
PROFILE = (
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
)
ARGS = {"city": "Paris", "unit": "celsius"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(load_text(SCENARIOS, "<bedrock>"), strict=True, time_scale=0) as running:
        yield running


def bedrock(server: MockServer) -> Any:
    return bedrock_client(server.url, retries={"total_max_attempts": 1})


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def events(stream: Any) -> Iterator[dict[str, Any]]:
    """A botocore event stream's events; its connection closed however the loop ends
    (one left to the garbage collector warns, an error under -W error)."""
    try:
        yield from stream
    finally:
        stream.close()


def converse_stream(client: Any, messages: list[dict[str, Any]], model: str = MODEL) -> dict[str, Any]:
    seen: dict[str, Any] = {"text": "", "input": {}, "fragments": 0, "stop": None, "usage": None, "tools": {}}
    for event in events(client.converse_stream(modelId=model, messages=messages)["stream"]):
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            seen["tools"][start["contentBlockIndex"]] = start["start"]["toolUse"]
        elif "contentBlockDelta" in event:
            delta = event["contentBlockDelta"]["delta"]
            seen["text"] += delta.get("text", "")
            if "toolUse" in delta:
                index = event["contentBlockDelta"]["contentBlockIndex"]
                seen["input"][index] = seen["input"].get(index, "") + delta["toolUse"]["input"]
                seen["fragments"] += 1
        elif "messageStop" in event:
            seen["stop"] = event["messageStop"]["stopReason"]
        elif "metadata" in event:
            seen["usage"] = event["metadata"]["usage"]
    return seen


@pytest.mark.parametrize("model", [MODEL, PROFILE])  # botocore percent-encodes `:` and `/`
def test_converse_stream_text_and_tool_input_fragments(server: MockServer, model: str) -> None:
    seen = converse_stream(bedrock(server), user("weather in Paris?"), model)
    assert seen["text"] == "Let me check. "
    (index,) = seen["input"]
    assert json.loads(seen["input"][index]) == ARGS and seen["fragments"] == 3
    assert seen["tools"][index]["name"] == "get_weather"
    assert seen["stop"] == "tool_use"
    assert seen["usage"] == {"inputTokens": 12, "outputTokens": 9, "totalTokens": 21}
    assert server.requests[-1].path == f"/model/{model}/converse-stream"


def test_converse_whole(server: MockServer) -> None:
    answer = bedrock(server).converse(modelId=MODEL, messages=user("weather?"))
    content = answer["output"]["message"]["content"]
    assert content[0] == {"text": "Let me check. "}
    assert content[1]["toolUse"]["input"] == ARGS and content[1]["toolUse"]["name"] == "get_weather"
    assert answer["stopReason"] == "tool_use" and answer["usage"]["totalTokens"] == 21


def test_invoke_with_response_stream_anthropic(server: MockServer) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "weather?"}],
    }
    answer = bedrock(server).invoke_model_with_response_stream(modelId=PROFILE, body=json.dumps(body))
    events = [json.loads(e["chunk"]["bytes"]) for e in answer["body"]]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    arguments = "".join(
        e["delta"].get("partial_json", "") for e in events if e["type"] == "content_block_delta"
    )
    assert text == "Let me check. " and json.loads(arguments) == ARGS
    assert [e["delta"]["stop_reason"] for e in events if e["type"] == "message_delta"] == ["tool_use"]
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 9


def test_invoke_whole_is_anthropics_message(server: MockServer) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "weather?"}],
    }
    answer = json.loads(bedrock(server).invoke_model(modelId=MODEL, body=json.dumps(body))["body"].read())
    assert answer["type"] == "message" and answer["stop_reason"] == "tool_use"
    assert answer["content"][1]["input"] == ARGS


def test_an_in_stream_error_is_the_event_stream_error(server: MockServer) -> None:
    from botocore.exceptions import EventStreamError

    got = ""
    with pytest.raises(EventStreamError) as raised:
        for event in events(
            bedrock(server).converse_stream(modelId=MODEL, messages=user("broken"))["stream"]
        ):
            got += event.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
    assert got == "Half an answer"
    assert raised.value.response["Error"] == {"Code": "throttlingException", "Message": "Too many requests"}


def test_a_throttling_status_is_throttling_exception(server: MockServer) -> None:
    client = bedrock(server)
    with pytest.raises(client.exceptions.ThrottlingException, match="Too many requests"):
        client.converse_stream(modelId=MODEL, messages=user("busy now"))


def test_a_reset_raises(server: MockServer) -> None:
    from urllib3.exceptions import ProtocolError

    with pytest.raises(ProtocolError):
        for _ in events(bedrock(server).converse_stream(modelId=MODEL, messages=user("cut"))["stream"]):
            pass


def test_a_two_turn_tool_use_loop(server: MockServer) -> None:
    client = bedrock(server)
    messages = user("weather in Paris?")
    first = client.converse(modelId=MODEL, messages=messages)
    messages.append(first["output"]["message"])
    (use,) = [b["toolUse"] for b in first["output"]["message"]["content"] if "toolUse" in b]
    result = {
        "toolResult": {
            "toolUseId": use["toolUseId"],
            "content": [{"text": "sunny, 22C"}],
            "status": "success",
        }
    }
    messages.append({"role": "user", "content": [result]})
    second = converse_stream(client, messages)
    assert second["text"] == "It is sunny in Paris." and second["stop"] == "end_turn"
    assert [e.turn for e in server.requests[-2:]] == [1, 2]
    assert server.requests[-1].warnings is None  # the id came back as it was issued
    assert server.take_misses() == []


def test_our_frames_through_botocores_parser() -> None:
    """The documented frame, byte for byte; and botocore's buffer checks both CRCs."""
    from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

    data = event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}})
    assert len(data) == 148 and data[8:12].hex() == "b4ab9aee" and data[-4:].hex() == "1f944657"
    (total, headers_length, prelude_crc) = struct.unpack(">III", data[:12])
    assert prelude_crc == zlib.crc32(data[:8]) and struct.unpack(">I", data[-4:])[0] == zlib.crc32(data[:-4])
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    (message,) = list(buffer)
    assert message.headers[":event-type"] == "contentBlockDelta" and (total, headers_length) == (148, 87)
    assert json.loads(message.payload) == {"contentBlockIndex": 0, "delta": {"text": "Hi"}}
    broken = EventStreamBuffer()
    broken.add_data(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ChecksumMismatch):
        list(broken)


def test_show_prints_frames_readably_and_raw(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    (tmp_path / "hi.yaml").write_text("stream: [{text: Hi}]\n")
    assert main(["show", "hi", str(tmp_path), "--api", "bedrock"]) == 0
    out = capsys.readouterr().out
    assert '[event contentBlockDelta] {"contentBlockIndex":0,"delta":{"text":"Hi"}}' in out
    assert "[event metadata]" in out
