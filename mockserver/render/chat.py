"""OpenAI Chat Completions: `POST /v1/chat/completions` (wire-formats.md §3).

Rules the SDK's stream helper imposes (and a real stream keeps): `role` once, in
the first chunk; a tool call's id and name only in its first delta, every later
delta with `index` and a `function` object; usage last before `[DONE]`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import sse
from .api import Rendering
from .errors import ApiError
from .openai_request import (
    check_messages,
    check_stream,
    check_tools,
    messages_text,
    require_model,
)
from .plan import TimedEvent
from .request import ApiRequest, BadRequest
from .script import (
    CommentItem,
    Delta,
    DoneItem,
    ErrorItem,
    EventItem,
    FinishItem,
    Item,
    RawItem,
    StopItem,
    ToolArgs,
    ToolStart,
    UsageItem,
)

_CONTENT = (Delta, ToolStart, ToolArgs, FinishItem)


class ChatApi:
    name = "chat"

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
        )

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
            }
        }

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {"x-request-id": request_id, "openai-version": "2020-10-01"}

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        return _ChatStream(rendering).events()

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


class _ChatStream:
    """Turns a script's items into `chat.completion.chunk` events."""

    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering
        self.script = rendering.script
        self.le = rendering.line_ending
        self.include_usage = rendering.request.include_usage
        self.out: list[TimedEvent] = []
        self.opened = False
        self.finished = False
        self.usage_sent = False
        self.done_sent = False
        self.head = {
            "id": _completion_id(rendering),
            "object": "chat.completion.chunk",
            "created": _created(rendering),
            "model": self.script.model,
            "service_tier": "default",
            "system_fingerprint": self.script.identity.fingerprint,
        }

    def events(self) -> list[TimedEvent]:
        for beat in self.script.beats:
            self.item(beat.at, beat.item)
        reply = self.script.reply
        if reply.stop is None and reply.error is None:
            at = self.script.end_at
            self.close(at)
            if self.rendering.response.done and not self.done_sent:
                self.item(at, DoneItem())
        return self.out

    def close(self, at: float) -> None:
        """The finish chunk and the usage chunk, where the script left them out."""
        reply = self.script.reply
        if not self.finished:
            self.item(at, FinishItem(reply.finish_reason))
        if self.include_usage and not self.usage_sent:
            self.item(at, reply.usage)

    def emit(self, at: float, data: bytes) -> None:
        self.out.append(TimedEvent(at, data))

    def chunk(self, at: float, delta: dict[str, Any], finish: str | None = None) -> None:
        payload = dict(self.head)
        payload["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if self.include_usage:
            payload["usage"] = None
        self.emit(at, sse.data(payload, self.le))

    def item(self, at: float, item: Item) -> None:
        if isinstance(item, _CONTENT) and not self.opened:
            self.opened = True
            if isinstance(item, ToolStart):
                self.tool_start(at, item, first=True)
                return
            if not (isinstance(item, Delta) and item.channel == "reasoning"):
                refusal_first = isinstance(item, Delta) and item.channel == "refusal"
                role: dict[str, Any] = {"role": "assistant", "content": None if refusal_first else ""}
                role["refusal"] = "" if refusal_first else None
                self.chunk(at, role)
        if isinstance(item, Delta):
            if item.channel == "text":
                self.chunk(at, {"content": item.text})
            elif item.channel == "refusal":
                self.chunk(at, {"refusal": item.text})
            # reasoning: Chat Completions has no channel for it; skipped.
        elif isinstance(item, ToolStart):
            self.tool_start(at, item, first=False)
        elif isinstance(item, ToolArgs):
            if item.legacy:
                self.chunk(at, {"function_call": {"arguments": item.text}})
            else:
                self.chunk(at, {"tool_calls": [{"index": item.index, "function": {"arguments": item.text}}]})
        elif isinstance(item, FinishItem):
            self.finished = True
            self.chunk(at, {}, item.reason)
        elif isinstance(item, UsageItem):
            # Like the real API: a usage chunk only when the request asked for one
            # (stream_options.include_usage); clients not asking index choices[0].
            if not self.include_usage:
                return
            if not self.finished:  # the real API sends the finish chunk before usage
                self.item(at, FinishItem(self.script.reply.finish_reason))
            self.usage_sent = True
            payload = dict(self.head)
            payload["choices"] = []
            payload["usage"] = _usage(item)
            self.emit(at, sse.data(payload, self.le))
        elif isinstance(item, ErrorItem):
            self.emit(at, sse.data(ChatApi().error_body(item.error), self.le))
        elif isinstance(item, EventItem):
            self.emit(
                at, sse.event(item.data, name=item.event, id=item.id, retry=item.retry, line_ending=self.le)
            )
        elif isinstance(item, CommentItem):
            self.emit(at, sse.comment(item.text, self.le))
        elif isinstance(item, RawItem):
            self.emit(at, item.text.encode("utf-8"))
        elif isinstance(item, DoneItem):
            if not self.done_sent and self.script.reply.error is None:
                self.close(at)  # [DONE] ends the stream: finish and usage come first
            self.done_sent = True
            self.emit(at, f"data: [DONE]{self.le}{self.le}".encode("ascii"))
        elif isinstance(item, StopItem):
            pass  # the player ends the connection; nothing is written

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
