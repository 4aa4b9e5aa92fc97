"""Ollama's native API: `POST /api/chat`, `POST /api/generate`, `GET /api/tags`.

Not SSE: a stream is NDJSON (`application/x-ndjson`), one JSON object a line, no
blank lines (the Python client parses every line), no terminator. Each text delta is
a line with `done: false` (`message.content` on chat, `response` on generate);
reasoning is `message.thinking`; a tool call comes whole, once its arguments are
complete, with `arguments` as a JSON object; the last line has `done: true`, a
`done_reason` and the usage counts (`prompt_eval_count`, `eval_count`, durations in
ns). An error before the stream is `{"error": "..."}` with its status; inside one,
an `{"error": "..."}` line. The server streams unless `stream: false`.

Steps with no NDJSON form (`event`, `comment`, `done`) are left out: README says so.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import replace
from typing import Any, assert_never

from ..scenario.model import Response
from . import sse
from .api import ApiDefaults, Rendering
from .blocks import Add, Close, Open, segment
from .errors import ApiError
from .frames import Frames, NdjsonFrames
from .openai_request import content_text, message_conversation
from .plan import TimedEvent
from .reading import Channel, Ending, Frame, StepSink, WireReader, json_object, read_texts, whole
from .request import ApiRequest, BadRequest, Conversation, Tool
from .script import (
    CommentItem,
    Delta,
    DoneItem,
    ErrorItem,
    EventItem,
    FinishItem,
    Identity,
    RawItem,
    Script,
    StopItem,
    ToolArgs,
    ToolStart,
    UsageItem,
)

_DONE_REASONS = {"stop": "stop", "length": "length", "tool_calls": "stop", "function_call": "stop"}
_NS_PER_TOKEN = 7_700_000  # durations are made up from the counts: about 130 tokens/s


class OllamaApi(ApiDefaults):
    name = "ollama"
    routes = ("/api/chat", "/api/generate")
    unsupported = frozenset({"event", "comment", "done"})  # no NDJSON form
    model_list_routes = ("/api/tags",)
    # half a line, then its end: the client's json.loads fails on it
    malformed = b'{"model":"mockserver","message":{"role":"assistant","content":"trunc\n'

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("invalid request: the body must be a JSON object", None, None)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequest("model is required", "model", None)
        stream = body.get("stream", True)  # Ollama streams unless told not to
        if not isinstance(stream, bool):
            raise BadRequest("invalid value for stream: expected a boolean", "stream", None)
        if request.path.endswith("/api/generate"):
            prompt = body.get("prompt", "")
            if not isinstance(prompt, str):
                raise BadRequest("invalid value for prompt: expected a string", "prompt", None)
            system = body.get("system")
            system = system if isinstance(system, str) else ""
            return replace(
                request,
                model=model,
                stream=stream,
                last_message=prompt,
                conversation=Conversation(system=system, first_message=prompt),
                input_words=len(f"{system} {prompt}".split()),
            )
        messages = body.get("messages", [])
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise BadRequest("invalid value for messages: expected a list of messages", "messages", None)
        users = [m for m in messages if m.get("role") == "user"]
        return replace(
            request,
            model=model,
            stream=stream,
            last_message=content_text(users[-1].get("content")) if users else "",
            tools=_tools(body.get("tools")),
            input_words=sum(len(content_text(m.get("content")).split()) for m in messages),
            conversation=message_conversation(messages),
        )

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {"error": error.message}

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return _line({"error": error.message})

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {}

    def restamp_pairs(self, response: Response, old: Identity, new: Identity) -> list[tuple[str, str]]:
        if response.created is not None:
            return []  # pinned (a recording's): the same for every request
        return [(_timestamp(old.created), _timestamp(new.created))]  # created_at, on every line

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        return _OllamaStream(rendering).events()

    def body(self, rendering: Rendering) -> Any:
        script = rendering.script
        reply = script.reply
        generate = _is_generate(rendering)
        out: dict[str, Any] = {"model": script.model, "created_at": _created_at(rendering)}
        if generate:
            out["response"] = reply.text + reply.refusal
        else:
            message: dict[str, Any] = {"role": "assistant", "content": reply.text + reply.refusal}
            if reply.reasoning:
                message["thinking"] = reply.reasoning
            if reply.tool_calls:
                message["tool_calls"] = [_tool_call(c.name, c.arguments, c.index) for c in reply.tool_calls]
            out["message"] = message
        return {**out, **_last_fields(script)}

    def stream_headers(self, request: ApiRequest) -> dict[str, str]:
        return {"content-type": "application/x-ndjson"}

    def frames(self) -> Frames:
        return NdjsonFrames()

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return _OllamaReader(steps)

    def model_list(self, ids: list[str]) -> Any:
        """`GET /api/tags`: the models, in Ollama's shape."""
        return {"models": [_model(model) for model in ids]}


def _is_generate(rendering: Rendering) -> bool:
    return rendering.request.path.endswith("/api/generate")


def _tools(raw: Any) -> tuple[Tool, ...]:
    if not isinstance(raw, list):
        return ()
    tools = []
    for tool in raw:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            tools.append(Tool(function["name"], parameters if isinstance(parameters, dict) else None))
    return tuple(tools)


def _line(payload: dict[str, Any]) -> bytes:
    """One NDJSON line: compact JSON (non-ASCII escaped, so never a raw line break), then LF."""
    return sse.to_json(payload).encode("ascii") + b"\n"


def _created_at(rendering: Rendering) -> str:
    pinned = rendering.response.created
    return _timestamp(pinned if pinned is not None else rendering.script.identity.created)


def _timestamp(created: int) -> str:
    moment = datetime.datetime.fromtimestamp(created, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


def _tool_call(name: str, arguments: str, index: int) -> dict[str, Any]:
    try:
        parsed = json.loads(arguments) if arguments else {}
    except ValueError:
        parsed = {}  # scripted arguments that are not JSON: Ollama sends an object or nothing
    return {
        "function": {"index": index, "name": name, "arguments": parsed if isinstance(parsed, dict) else {}}
    }


def _last_fields(script: Script) -> dict[str, Any]:
    usage = script.reply.usage
    return {
        "done": True,
        "done_reason": _DONE_REASONS.get(script.reply.finish_reason, "stop"),
        "total_duration": (usage.input + usage.output) * _NS_PER_TOKEN + 40_000_000,
        "load_duration": 40_000_000,
        "prompt_eval_count": usage.input,
        "prompt_eval_duration": usage.input * _NS_PER_TOKEN // 4,
        "eval_count": usage.output,
        "eval_duration": usage.output * _NS_PER_TOKEN,
    }


def _model(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-01-01T00:00:00Z",
        "size": 2_019_393_189,
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": {
            "format": "gguf",
            "family": "llama",
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }


class _OllamaStream:
    def __init__(self, rendering: Rendering) -> None:
        self.script = rendering.script
        self.generate = _is_generate(rendering)
        self.head = {"model": self.script.model, "created_at": _created_at(rendering)}
        self.out: list[TimedEvent] = []

    def emit(self, at: float, fields: dict[str, Any]) -> None:
        self.out.append(TimedEvent(at, _line({**self.head, **fields, "done": False})))

    def text(self, at: float, text: str, thinking: bool) -> None:
        if self.generate:
            self.emit(at, {"thinking": text} if thinking else {"response": text})
        else:
            content = {"content": "", "thinking": text} if thinking else {"content": text}
            self.emit(at, {"message": {"role": "assistant", **content}})

    def events(self) -> list[TimedEvent]:
        for at, mark in segment(self.script):
            match mark:
                case Open() | Add() if mark.block.kind == "tool":
                    pass  # a tool call is sent whole, when it closes
                case Open():
                    pass  # text needs no opening line
                case Add():
                    self.text(at, mark.text, thinking=mark.block.kind == "reasoning")
                case Close():
                    block = mark.block
                    if block.kind == "tool" and block.tool is not None and not self.generate:
                        call = _tool_call(block.tool.name, block.text, block.tool.index)
                        self.emit(at, {"message": {"role": "assistant", "content": "", "tool_calls": [call]}})
                case ErrorItem():
                    self.out.append(TimedEvent(at, _line({"error": mark.error.message})))
                case RawItem():
                    self.out.append(TimedEvent(at, mark.text.encode("utf-8")))
                case EventItem() | CommentItem() | DoneItem():
                    pass  # no NDJSON form: left out (README: per-API rendering)
                case FinishItem() | UsageItem() | StopItem():
                    pass  # the last line carries finish and usage; a stop is the player's
                case Delta() | ToolStart() | ToolArgs():
                    pass  # segment() turns these into Open / Add / Close marks
                case _:
                    assert_never(mark)
        reply = self.script.reply
        if reply.stop is None and reply.error is None:
            fields = _last_fields(self.script)
            blank = {"response": ""} if self.generate else {"message": {"role": "assistant", "content": ""}}
            self.out.append(TimedEvent(self.script.end_at, _line({**self.head, **blank, **fields})))
        return self.out


# the fields that carry words (`response` is /api/generate's), and their channel
_CHANNELS: tuple[tuple[str, Channel], ...] = (
    ("thinking", "reasoning"),
    ("content", "text"),
    ("response", "text"),
)


class _OllamaReader:
    """A recorded Ollama stream (its lines) or body, back into steps (recording)."""

    def __init__(self, steps: StepSink) -> None:
        self.steps = steps
        self.pinned = False
        self.calls = 0
        self.done = False

    def frame(self, frame: Frame) -> None:
        line = json_object(frame.data)
        if line is None:
            self.steps.event(frame)
        elif isinstance(line.get("error"), str):
            self.steps.error(line["error"], None, None, None)
        else:
            self.read(line)

    def body(self, body: Any) -> None:
        if isinstance(body, dict):
            self.read(body)

    def read(self, line: dict[str, Any]) -> None:
        if not self.pinned:
            self.pinned = True
            model = line.get("model")
            model_name = model if isinstance(model, str) else None
            self.steps.pin(model=model_name, created=_seconds(line.get("created_at")))
        message: dict[str, Any] = line["message"] if isinstance(line.get("message"), dict) else line
        read_texts(self.steps, message, _CHANNELS)
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                arguments = function.get("arguments")
                self.steps.tool_start(self.calls, "", function["name"])
                self.steps.tool_args(self.calls, json.dumps(arguments if arguments is not None else {}))
                self.calls += 1
        if line.get("done") is True:
            self.done = True
            reason = line.get("done_reason")
            self.steps.finish("tool_calls" if self.calls else reason if reason == "length" else "stop")
            counts = (line.get("prompt_eval_count"), line.get("eval_count"))
            self.steps.usage(*map(whole, counts))

    def ending(self) -> Ending:
        return "complete" if self.done else "cut"


def _seconds(created_at: Any) -> int | None:
    """`created_at` (ISO 8601, to the nanosecond) as Unix seconds."""
    if not isinstance(created_at, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(created_at[:19])
    except ValueError:
        return None
    return int(moment.replace(tzinfo=datetime.UTC).timestamp())
