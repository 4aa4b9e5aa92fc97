"""Anthropic Messages: `POST /v1/messages`.

Every event has an `event:` line (Anthropic clients skip events without one):
`message_start`, then per block `content_block_start` / `_delta` / `_stop`, then
`message_delta` with the stop reason and usage, and `message_stop`. No `[DONE]`.
Reasoning becomes a thinking block, a tool call a tool_use block, a comment a
`ping`, an error step `event: error`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, assert_never

from ..scenario.model import Content, Response
from . import sse
from .api import ApiDefaults, Rendering
from .blocks import Add, Block, Close, Open, final_blocks, one_at_a_time, segment
from .data_stream import passthrough
from .errors import ApiError
from .openai_request import content_text, message_conversation
from .plan import TimedEvent
from .reading import Channel, Ending, Frame, StepSink, WireReader, typed_event, whole
from .request import ApiRequest, BadRequest, Tool
from .script import (
    CommentItem,
    Delta,
    DoneItem,
    ErrorItem,
    EventItem,
    FinishItem,
    Identity,
    RawItem,
    Reply,
    Script,
    StopItem,
    ToolArgs,
    ToolStart,
    UsageItem,
    seeded_token,
)

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
ERROR_TYPES = {  # Anthropic's error types, and the status each goes with
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_BY_STATUS = {status: kind for kind, status in ERROR_TYPES.items()}
# block kind → (delta type, its text field)
_DELTAS = {
    "reasoning": ("thinking_delta", "thinking"),
    "tool": ("input_json_delta", "partial_json"),
    "text": ("text_delta", "text"),
    "refusal": ("text_delta", "text"),
}


def anthropic_error_type(error: ApiError) -> str:
    """The error's type in Anthropic's words: kept if it is one, else from the status."""
    if error.type in ERROR_TYPES:
        return error.type
    return _BY_STATUS.get(error.status, "api_error" if error.status >= 500 else "invalid_request_error")


def _field_required(name: str) -> BadRequest:
    return BadRequest(f"{name}: Field required", name, None)


class AnthropicApi(ApiDefaults):
    name = "anthropic"
    routes = ("/v1/messages",)
    unsupported = frozenset({"done"})  # Anthropic streams end with message_stop

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {
            "model": model,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": message}],
            "stream": stream,
        }

    def issued_calls(self, script: Script) -> tuple[tuple[str, str, str], ...]:
        return tuple(
            (_wire_id(call.id, call.id_given), call.name, call.arguments) for call in script.reply.tool_calls
        )

    def restamp_pairs(self, response: Response, old: Identity, new: Identity) -> list[tuple[str, str]]:
        """Thinking signatures, by block number, derive from the token."""
        if not any(isinstance(s, Content) and s.channel == "reasoning" for s in response.stream):
            return []
        return [
            (_signature_of(old.token, block), _signature_of(new.token, block))
            for block in range(len(response.stream))
        ]

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", None, None)
        for required in ("model", "max_tokens", "messages"):
            if required not in body:
                raise _field_required(required)
        model, max_tokens, messages = body["model"], body["max_tokens"], body["messages"]
        if not isinstance(model, str):
            raise BadRequest("model: Input should be a valid string", "model", None)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise BadRequest("max_tokens: Input should be a valid positive integer", "max_tokens", None)
        if not isinstance(messages, list):
            raise BadRequest("messages: Input should be a valid list", "messages", None)
        last, texts = "", []
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise BadRequest(f"messages.{i}: Input should be a valid dictionary", f"messages.{i}", None)
            if message.get("role") not in ("user", "assistant"):
                raise BadRequest(
                    f"messages.{i}.role: Input should be 'user' or 'assistant'", f"messages.{i}.role", None
                )
            if "content" not in message:
                raise _field_required(f"messages.{i}.content")
            text = content_text(message["content"])
            texts.append(text)
            if message["role"] == "user" and text:  # not a message of tool results only
                last = text
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise BadRequest("stream: Input should be a valid boolean", "stream", None)
        system = body.get("system")
        return replace(
            request,
            model=model,
            stream=stream,
            last_message=last,
            tools=_tools(body.get("tools")),
            tool_choice=_tool_choice(body.get("tool_choice")),
            input_words=len(f"{content_text(system) if system else ''} {' '.join(texts)}".split()),
            conversation=message_conversation(messages, content_text(system) if system else ""),
        )

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {
            "type": "error",
            "error": {"type": anthropic_error_type(error), "message": error.message},
            "request_id": request_id or None,
        }

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        payload = {"type": "error", "error": {"type": anthropic_error_type(error), "message": error.message}}
        return sse.named("error", sse.to_json(payload), line_ending)

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {"request-id": request_id, "anthropic-organization-id": "mockserver"}

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return _AnthropicReader(steps)

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        return _AnthropicStream(rendering).events()

    def body(self, rendering: Rendering) -> Any:
        script = rendering.script
        content = [_final_block(script, block) for block in final_blocks(script)]
        message = _message(rendering, content)
        message["stop_reason"] = _stop_reason(script.reply)
        message["usage"]["output_tokens"] = script.reply.usage.output
        return message


def _tools(raw: Any) -> tuple[Tool, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BadRequest("tools: Input should be a valid list", "tools", None)
    tools = []
    for i, tool in enumerate(raw):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise _field_required(f"tools.{i}.name")
        schema = tool.get("input_schema")
        tools.append(Tool(tool["name"], schema if isinstance(schema, dict) else None))
    return tuple(tools)


def _tool_choice(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in ("auto", "any", "tool", "none"):
        raise BadRequest("tool_choice: Input should be a valid tool choice", "tool_choice", None)
    if raw["type"] == "tool":
        name = raw.get("name")
        if not isinstance(name, str):
            raise _field_required("tool_choice.name")
        return name
    return {"any": "required"}.get(raw["type"], raw["type"])


def _tool_id(script: Script, block: Block) -> str:
    tool = block.tool
    assert tool is not None
    return _wire_id(tool.id, tool.id_given)


def _wire_id(made: str, given: bool) -> str:
    """A tool call's id in Anthropic's spelling (`toolu_01…`), unless the scenario set it."""
    return made if given else "toolu_01" + made.removeprefix("call_")


def _signature(script: Script, block: Block) -> str:
    return _signature_of(script.identity.token, block.number) + "=="


def _signature_of(token: str, block: int) -> str:
    """A thinking block's signature (before its padding): from the request's token, so
    the plan cache can re-stamp it (restamp_pairs)."""
    return seeded_token(f"{token}/signature/{block}", 88)


def _stop_reason(reply: Reply) -> str:
    if reply.finish is None and reply.refusal and not reply.text:
        return "refusal"
    return STOP_REASONS[reply.finish_reason]


def _message(rendering: Rendering, content: list[dict[str, Any]]) -> dict[str, Any]:
    script = rendering.script
    return {
        "id": rendering.response.id or f"msg_01{script.identity.token}",
        "type": "message",
        "role": "assistant",
        "model": script.model,
        "content": content,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": script.reply.usage.input,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
        },
    }


def _start_block(script: Script, block: Block) -> dict[str, Any]:
    if block.kind == "reasoning":
        return {"type": "thinking", "thinking": "", "signature": ""}
    if block.kind == "tool":
        assert block.tool is not None
        return {"type": "tool_use", "id": _tool_id(script, block), "name": block.tool.name, "input": {}}
    return {"type": "text", "text": ""}


def _final_block(script: Script, block: Block) -> dict[str, Any]:
    if block.kind == "reasoning":
        return {"type": "thinking", "thinking": block.text, "signature": _signature(script, block)}
    if block.kind == "tool":
        assert block.tool is not None
        try:
            arguments = json.loads(block.text) if block.text else {}
        except ValueError:
            arguments = {}  # the scripted arguments are not JSON: no input object to give
        return {
            "type": "tool_use",
            "id": _tool_id(script, block),
            "name": block.tool.name,
            "input": arguments,
        }
    return {"type": "text", "text": block.text}


class _AnthropicStream:
    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering
        self.script = rendering.script
        self.le = rendering.line_ending
        self.out: list[TimedEvent] = []
        self.started = False
        self.pinged = False

    def emit(self, at: float, payload: dict[str, Any]) -> None:
        self.out.append(TimedEvent(at, sse.named(payload["type"], sse.to_json(payload), self.le)))

    def start(self, at: float) -> None:
        if not self.started:
            self.started = True
            self.emit(at, {"type": "message_start", "message": _message(self.rendering, [])})

    def events(self) -> list[TimedEvent]:
        for at, mark in one_at_a_time(segment(self.script)):
            match mark:  # exhaustive: a new item kind is a type error until handled
                case Open() | Add() | Close():
                    self.start(at)
                    self.block(at, mark)
                case ErrorItem():
                    self.out.append(TimedEvent(at, AnthropicApi().error_event(mark.error, self.le)))
                case CommentItem():
                    self.emit(at, {"type": "ping"})
                case EventItem() | RawItem():
                    self.out.append(TimedEvent(at, passthrough(mark, self.le)))
                case DoneItem():
                    pass  # `done` has no Anthropic form
                case FinishItem() | UsageItem():
                    pass  # they shape message_delta, at the end
                case StopItem():
                    pass  # the player ends the connection
                case Delta() | ToolStart() | ToolArgs():
                    pass  # segment() turns these into Open / Add / Close
                case _:
                    assert_never(mark)
        reply = self.script.reply
        if reply.stop is None and reply.error is None:
            at = self.script.end_at
            self.start(at)
            self.emit(
                at,
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
                    # cumulative, with the input counts too: the SDK's types carry them
                    # here, and some clients read input tokens only from this event
                    "usage": {
                        "input_tokens": reply.usage.input,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": reply.usage.output,
                    },
                },
            )
            self.emit(at, {"type": "message_stop"})
        return self.out

    def block(self, at: float, mark: Open | Add | Close) -> None:
        block = mark.block
        if isinstance(mark, Open):
            self.emit(
                at,
                {
                    "type": "content_block_start",
                    "index": block.number,
                    "content_block": _start_block(self.script, block),
                },
            )
            if not self.pinged:  # as the real API does, once, after the first block starts
                self.pinged = True
                self.emit(at, {"type": "ping"})
        elif isinstance(mark, Add):
            # spelled directly (deltas are most of a stream), as emit() would spell them
            kind, key = _DELTAS[block.kind]
            payload = (
                f'{{"type":"content_block_delta","index":{block.number},'
                f'"delta":{{"type":"{kind}","{key}":{sse.json_string(mark.text)}}}}}'
            )
            self.out.append(TimedEvent(at, sse.named("content_block_delta", payload, self.le)))
        else:
            if block.kind == "reasoning":
                self.emit(
                    at,
                    {
                        "type": "content_block_delta",
                        "index": block.number,
                        "delta": {"type": "signature_delta", "signature": _signature(self.script, block)},
                    },
                )
            self.emit(at, {"type": "content_block_stop", "index": block.number})


_FINISH_OF = {reason: finish for finish, reason in STOP_REASONS.items() if finish != "function_call"}
_FINISH_OF.update({"stop_sequence": "stop", "pause_turn": "stop"})
# delta type → (its text field, channel)
_DELTA_CHANNELS: dict[str, tuple[str, Channel]] = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "reasoning"),
}


class _AnthropicReader:
    """A recorded Messages stream or body, back into steps (recording). Block starts
    and stops, the signature and the first ping are made again by the renderer."""

    def __init__(self, steps: StepSink) -> None:
        self.steps = steps
        self.tools: dict[int, int] = {}  # block index → the call's index among calls
        self.kinds: dict[int, str] = {}  # block index → block type
        self.input_tokens: int | None = None
        self.pinged = False
        self.stopped = False

    def frame(self, frame: Frame) -> None:
        typed = typed_event(frame, self.steps)
        if typed is None:
            return
        kind, payload = typed
        index = payload.get("index")
        if kind == "message_start" and isinstance(payload.get("message"), dict):
            self.start(payload["message"])
        elif kind == "content_block_start" and type(index) is int:
            self.block(index, payload.get("content_block"))
        elif kind == "content_block_delta" and type(index) is int:
            self.delta(index, payload.get("delta"))
        elif kind == "message_delta":
            self.end(payload.get("delta"), payload.get("usage"))
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "ping":
            if self.pinged or not self.kinds:
                self.steps.comment("ping")  # the renderer makes one ping, after the first block starts
            self.pinged = True
        elif kind == "error" and isinstance(payload.get("error"), dict):
            error = payload["error"]
            self.steps.error(str(error.get("message") or ""), error.get("type"), None, None)
        elif kind != "content_block_stop":
            self.steps.event(frame)

    def start(self, message: dict[str, Any]) -> None:
        model = message.get("model")
        self.steps.pin(
            id=message.get("id") if isinstance(message.get("id"), str) else None,
            model=model if isinstance(model, str) else None,
        )
        usage = message.get("usage")
        tokens = usage.get("input_tokens") if isinstance(usage, dict) else None
        self.input_tokens = whole(tokens)

    def block(self, index: int, block: Any) -> None:
        if not isinstance(block, dict):
            return
        kind = str(block.get("type"))
        self.kinds[index] = kind
        if kind == "tool_use":
            self.tools[index] = number = len(self.tools)
            self.steps.tool_start(number, str(block.get("id") or ""), str(block.get("name") or ""))
        elif kind == "text" and isinstance(block.get("text"), str) and block["text"]:
            self.steps.text("text", block["text"])

    def delta(self, index: int, delta: Any) -> None:
        if not isinstance(delta, dict):
            return
        kind = delta.get("type")
        if kind == "input_json_delta" and index in self.tools:
            piece = delta.get("partial_json")
            if isinstance(piece, str) and piece:
                self.steps.tool_args(self.tools[index], piece)
        elif isinstance(kind, str) and kind in _DELTA_CHANNELS:
            key, channel = _DELTA_CHANNELS[kind]
            if isinstance(delta.get(key), str) and delta[key]:
                self.steps.text(channel, delta[key])

    def end(self, delta: Any, usage: Any) -> None:
        reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        if isinstance(reason, str):
            self.steps.finish(_FINISH_OF.get(reason, "stop"))
        if isinstance(usage, dict):
            given = usage.get("input_tokens")
            output = usage.get("output_tokens")
            self.steps.usage(
                given if type(given) is int else self.input_tokens,
                whole(output),
            )

    def body(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        self.start(body)
        content = body.get("content")
        for index, block in enumerate(content if isinstance(content, list) else ()):
            if not isinstance(block, dict):
                continue
            self.block(index, block if block.get("type") != "text" else {"type": "text"})
            if block.get("type") == "text":
                self.delta(index, {"type": "text_delta", "text": block.get("text")})
            elif block.get("type") == "thinking":
                self.delta(index, {"type": "thinking_delta", "thinking": block.get("thinking")})
            elif block.get("type") == "tool_use":
                arguments = json.dumps(block.get("input") or {}, ensure_ascii=False, separators=(",", ":"))
                self.delta(index, {"type": "input_json_delta", "partial_json": arguments})
        self.end({"stop_reason": body.get("stop_reason")}, body.get("usage"))

    def ending(self) -> Ending:
        return "complete" if self.stopped else "cut"
