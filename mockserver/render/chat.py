"""OpenAI Chat Completions: `POST /v1/chat/completions`.

Rules the SDK's stream helper imposes (and a real stream keeps): `role` once, in
the first chunk; a tool call's id and name only in its first delta, every later
delta with `index` and a `function` object; usage last before `[DONE]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from . import sse
from .api import Rendering
from .data_stream import DataStream, DataStreamReader
from .openai_request import (
    OpenAIErrors,
    check_messages,
    check_stream,
    check_tools,
    message_conversation,
    messages_text,
    require_model,
)
from .plan import TimedEvent
from .reading import Channel, StepSink, WireReader, read_texts, whole
from .request import ApiRequest, BadRequest
from .script import Delta, ToolArgs, ToolStart, UsageItem


class ChatApi(OpenAIErrors):
    name = "chat"
    routes = ("/v1/chat/completions",)
    unsupported = frozenset({"reasoning"})  # Chat Completions has no channel for it

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", None, "invalid_type")
        model = require_model(body)
        messages = check_messages(body)
        stream = check_stream(body)
        tools, tool_choice = check_tools(body, chat=True)
        options = body.get("stream_options")
        if options is not None and not isinstance(options, dict):
            raise BadRequest(
                "Invalid type for 'stream_options': expected an object.", "stream_options", "invalid_type"
            )
        last_user, all_text = messages_text(messages)
        return replace(
            request,
            model=model,
            stream=stream,
            last_message=last_user,
            tools=tools,
            tool_choice=tool_choice,
            include_usage=bool(options and options.get("include_usage")),
            input_words=len(all_text.split()),
            conversation=message_conversation(messages),
        )

    def stream(self, rendering: Rendering) -> Iterable[TimedEvent]:
        return _ChatStream(rendering).events()

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return ChatReader(steps)

    def body(self, rendering: Rendering) -> Any:
        script, reply = rendering.script, rendering.script.reply
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text if reply.text or not (reply.tool_calls or reply.function_call) else None,
            "refusal": reply.refusal or None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in reply.tool_calls
            ]
        if reply.function_call is not None:
            call = reply.function_call
            message["function_call"] = {"name": call.name, "arguments": call.arguments}
        return {
            "id": _completion_id(rendering),
            "object": "chat.completion",
            "created": _created(rendering),
            "model": script.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": _usage(reply.usage),
            "service_tier": "default",
            "system_fingerprint": script.identity.fingerprint,
        }


def _completion_id(rendering: Rendering) -> str:
    return rendering.response.id or f"chatcmpl-{rendering.script.identity.token}"


def _created(rendering: Rendering) -> int:
    given = rendering.response.created
    return given if given is not None else rendering.script.identity.created


def _usage(usage: UsageItem) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class _ChatStream(DataStream):
    """A script's items as `chat.completion.chunk` events."""

    def __init__(self, rendering: Rendering) -> None:
        super().__init__(
            rendering,
            {
                "id": _completion_id(rendering),
                "object": "chat.completion.chunk",
                "created": _created(rendering),
                "model": rendering.script.model,
                "service_tier": "default",
                "system_fingerprint": rendering.script.identity.fingerprint,
            },
        )
        self.opened = False
        # Every chunk is PREFIX + delta + SUFFIX: encoded once here, so a content
        # chunk costs one string escape (long streams have tens of thousands).
        self.usage_null = ',"usage":null' if self.include_usage else ""
        self.prefix = "data: " + sse.to_json(self.head)[:-1] + ',"choices":[{"index":0,"delta":'
        self.suffix = ',"logprobs":null,"finish_reason":null}]' + self.usage_null + "}" + self.le + self.le

    def chunk(self, at: float, delta: dict[str, Any], finish: str | None = None) -> None:
        self.delta_chunk(at, sse.to_json(delta), finish)

    def delta_chunk(self, at: float, delta_json: str, finish: str | None = None) -> None:
        suffix = self.suffix
        if finish is not None:
            reason = sse.json_string(finish)
            suffix = f',"logprobs":null,"finish_reason":{reason}}}]{self.usage_null}}}{self.le}{self.le}'
        self.out.append(TimedEvent(at, (self.prefix + delta_json + suffix).encode("ascii")))

    def finish_chunk(self, at: float, reason: str) -> None:
        self.open(at, None)
        self.chunk(at, {}, reason)

    def usage_payload(self, usage: UsageItem) -> dict[str, Any]:
        return _usage(usage)

    def open(self, at: float, first: Delta | ToolStart | ToolArgs | None) -> bool:
        """The role chunk, once, before the first content. True when `first` itself
        carried the role (a tool call's first chunk does, as the real API's)."""
        if self.opened or (isinstance(first, Delta) and first.channel == "reasoning"):
            return False
        self.opened = True
        self.text_prefix = self.prefix + '{"content":'
        self.text_suffix = "}" + self.suffix
        if isinstance(first, ToolStart):
            self.tool_start(at, first, first=True)
            return True
        refusal_first = isinstance(first, Delta) and first.channel == "refusal"
        role: dict[str, Any] = {"role": "assistant", "content": None if refusal_first else ""}
        role["refusal"] = "" if refusal_first else None
        self.chunk(at, role)
        return False

    def content(self, at: float, item: Delta | ToolStart | ToolArgs) -> None:
        if self.open(at, item):
            return
        if isinstance(item, Delta):
            if item.channel == "text":
                self.delta_chunk(at, '{"content":' + sse.json_string(item.text) + "}")
            elif item.channel == "refusal":
                self.delta_chunk(at, '{"refusal":' + sse.json_string(item.text) + "}")
            # reasoning: Chat Completions has no channel for it; skipped.
        elif isinstance(item, ToolStart):
            self.tool_start(at, item, first=False)
        elif item.legacy:
            self.chunk(at, {"function_call": {"arguments": item.text}})
        else:
            arguments = sse.json_string(item.text)
            self.delta_chunk(
                at, f'{{"tool_calls":[{{"index":{item.index},"function":{{"arguments":{arguments}}}}}]}}'
            )

    def tool_start(self, at: float, item: ToolStart, *, first: bool) -> None:
        delta: dict[str, Any] = {"role": "assistant", "content": None} if first else {}
        if item.legacy:
            delta["function_call"] = {"name": item.name, "arguments": ""}
        else:
            delta["tool_calls"] = [
                {
                    "index": item.index,
                    "id": item.id,
                    "type": "function",
                    "function": {"name": item.name, "arguments": ""},
                }
            ]
        if first:
            delta["refusal"] = None
        self.chunk(at, delta)


class ChatReader(DataStreamReader):
    """A recorded Chat stream or body, back into steps (recording)."""

    def choice(self, choice: dict[str, Any]) -> None:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return
        read_texts(self.steps, delta, _CHANNELS)
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if not isinstance(call, dict):
                continue
            index = call["index"] if type(call.get("index")) is int else 0
            function = call.get("function")
            name, arguments = (
                (function.get("name"), function.get("arguments"))
                if isinstance(function, dict)
                else (None, None)
            )
            if isinstance(name, str):
                call_id = call.get("id")
                self.steps.tool_start(index, call_id if isinstance(call_id, str) else "", name)
            if isinstance(arguments, str) and arguments:
                self.steps.tool_args(index, arguments)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            if isinstance(legacy.get("name"), str):
                self.steps.function_start(legacy["name"])
            if isinstance(legacy.get("arguments"), str) and legacy["arguments"]:
                self.steps.function_args(legacy["arguments"])

    def body(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        self.pin(body)
        choices = body.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            read_texts(self.steps, message, _CHANNELS)
            calls = message.get("tool_calls")
            for index, call in enumerate(calls if isinstance(calls, list) else ()):
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("name"), str):
                    self.steps.tool_start(index, str(call.get("id") or ""), function["name"])
                    self.steps.tool_args(index, str(function.get("arguments") or ""))
            legacy = message.get("function_call")
            if isinstance(legacy, dict) and isinstance(legacy.get("name"), str):
                self.steps.function_start(legacy["name"])
                self.steps.function_args(str(legacy.get("arguments") or ""))
        if isinstance(choice, dict) and isinstance(choice.get("finish_reason"), str):
            self.steps.finish(choice["finish_reason"])
        usage = body.get("usage")
        if isinstance(usage, dict):
            input_tokens, output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
            self.steps.usage(
                whole(input_tokens),
                whole(output_tokens),
            )


# the delta fields that carry words, and their channel (`reasoning_content` is what
# OpenAI-compatible servers with reasoning models send)
_CHANNELS: tuple[tuple[str, Channel], ...] = (
    ("reasoning_content", "reasoning"),
    ("content", "text"),
    ("refusal", "refusal"),
)
