"""Google Gemini: `POST /{v1,v1beta,v1beta1}/models/{model}:generateContent` and
`:streamGenerateContent`, and the same under Vertex's paths.

The model is in the path; the method says whether to stream. `?alt=sse` streams
`data: ` lines (one whole `GenerateContentResponse` each, no `[DONE]`); without it
the stream is one JSON array written as it goes. Text parts are deltas; a function
call is one part with its whole `args` (Gemini does not stream arguments); the last
chunk has the `finishReason` and the full `usageMetadata` (every chunk has the running
total). Reasoning is `thought: true` parts; the part after them, and every function
call, carries a base64 `thoughtSignature`. Errors are `google.rpc.Status` objects, in
a body or as a `data: {"error": ...}` event. Success is exactly 200 (the Python SDK
refuses any other 2xx).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from typing import Any, assert_never

from ..scenario.model import Content, Response, ToolCall
from . import sse
from .api import ApiDefaults, Rendering
from .blocks import Add, Block, Close, Open, final_blocks, segment
from .data_stream import passthrough
from .errors import ApiError
from .plan import TimedEvent
from .reading import Ending, Frame, StepSink, WireReader, error_fields, json_object, whole
from .request import ApiRequest, BadRequest, Conversation, History, Tool
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
)

_VERSION = "{version:v1|v1beta|v1beta1}"
_METHODS = (":generateContent", ":streamGenerateContent")
_MODEL_PATHS = (
    "/models/{model}",
    "/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}",
    "/publishers/{publisher}/models/{model}",
)
_MODEL = re.compile(r"/models/([^/]+?):(?:stream)?[gG]enerate[cC]ontent$")
FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",  # Gemini has no tool finish reason: a call ends with STOP
    "function_call": "STOP",
    "content_filter": "SAFETY",
}
_FINISH_OF = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
# google.rpc.Code names, by HTTP status
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GeminiApi(ApiDefaults):
    name = "gemini"
    routes = tuple(f"/{_VERSION}{path}{method}" for path in _MODEL_PATHS for method in _METHODS)
    model_list_routes = ("/v1beta/models",)
    malformed = b'data: {"candidates": [{"content": {"parts": [{"text": "trunc\n\n'
    unsupported = frozenset({"done"})  # Gemini streams have no end marker

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {"contents": [{"role": "user", "parts": [{"text": message}]}], "generationConfig": {}}

    def sample_path(self, model: str, *, stream: bool) -> str:
        method = ":streamGenerateContent?alt=sse" if stream else ":generateContent"
        return f"/v1beta/models/{model}{method}"

    def model_list(self, ids: list[str]) -> Any:
        return {
            "models": [
                {
                    "name": f"models/{model}",
                    "displayName": model,
                    "supportedGenerationMethods": ["generateContent"],
                }
                for model in ids
            ]
        }

    def stream_headers(self, request: ApiRequest) -> dict[str, str]:
        if _sse(request):
            return {"content-type": "text/event-stream", "cache-control": "no-cache"}
        return {"content-type": "application/json; charset=UTF-8"}

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("Invalid JSON payload received. Expected an object.", None, "INVALID_ARGUMENT")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequest("* GenerateContentRequest.contents: contents is not specified", "contents")
        found = _MODEL.search(request.path)
        texts = [_text(entry) for entry in contents if isinstance(entry, dict)]
        users = [
            _text(entry)
            for entry in contents
            if isinstance(entry, dict) and entry.get("role", "user") == "user" and _text(entry)
        ]
        system = _text(_field(body, "systemInstruction", "system_instruction"))
        return replace(
            request,
            model=found.group(1) if found else "",
            stream=request.path.endswith(":streamGenerateContent"),
            last_message=users[-1] if users else "",
            tools=_tools(body.get("tools")),
            tool_choice=_tool_choice(_field(body, "toolConfig", "tool_config")),
            include_usage=True,
            input_words=len(" ".join([system, *texts]).split()),
            conversation=_conversation(contents, system),
        )

    def restamp_pairs(self, response: Response, old: Identity, new: Identity) -> list[tuple[str, str]]:
        """Thought signatures, by block number, derive from the token."""
        signed = (
            s
            for s in response.stream
            if isinstance(s, ToolCall) or (isinstance(s, Content) and s.channel == "reasoning")
        )
        if next(signed, None) is None:
            return []
        return [
            (_signature_of(old.token, n), _signature_of(new.token, n)) for n in range(len(response.stream))
        ]

    def issued_calls(self, script: Script) -> tuple[tuple[str, str, str], ...]:
        # Gemini's calls carry an id only when the scenario gave one
        return tuple((c.id if c.id_given else "", c.name, c.arguments) for c in script.reply.tool_calls)

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {"error": _status(error)}

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return sse.data({"error": _status(error)}, line_ending)

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {"x-goog-request-id": request_id} if request_id else {}

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        return _GeminiStream(rendering).events()

    def body(self, rendering: Rendering) -> Any:
        script = rendering.script
        parts: list[dict[str, Any]] = []
        after_thought = False
        for block in final_blocks(script):
            part = _part(script, block, block.text, after_thought)
            after_thought = block.kind == "reasoning"
            if part is not None:
                parts.append(part)
        return _chunk(rendering, parts or [{"text": ""}], final=True)

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return _GeminiReader(steps)


def _sse(request: ApiRequest) -> bool:
    return request.query.get("alt") == "sse"


def _field(body: Any, camel: str, snake: str) -> Any:
    """A field the API takes in camelCase or snake_case."""
    if not isinstance(body, dict):
        return None
    return body.get(camel, body.get(snake))


def _text(entry: Any) -> str:
    """The text of a Content's parts (not its function calls or responses)."""
    parts = entry.get("parts") if isinstance(entry, dict) else None
    if not isinstance(parts, list):
        return ""
    return "".join(
        p["text"]
        for p in parts
        if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
    )


def _tools(raw: Any) -> tuple[Tool, ...]:
    tools = []
    for tool in raw if isinstance(raw, list) else ():
        declarations = _field(tool, "functionDeclarations", "function_declarations")
        for declaration in declarations if isinstance(declarations, list) else ():
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                schema = declaration.get("parameters", declaration.get("parametersJsonSchema"))
                tools.append(Tool(declaration["name"], schema if isinstance(schema, dict) else None))
    return tuple(tools)


def _tool_choice(config: Any) -> str | None:
    mode = _field(_field(config, "functionCallingConfig", "function_calling_config"), "mode", "mode")
    return {"AUTO": "auto", "ANY": "required", "NONE": "none"}.get(str(mode).upper()) if mode else None


def _conversation(contents: list[Any], system: str) -> Conversation:
    """Turn: 1 + the `model` entries. This turn's tool results: the functionResponse
    parts after the last model entry; earlier calls: the model entries' functionCalls."""
    history = History(system)
    for entry in contents:
        if not isinstance(entry, dict):
            continue
        parts: list[Any] = entry["parts"] if isinstance(entry.get("parts"), list) else []
        if entry.get("role") == "model":
            history.assistant_turn()
            for part in parts:
                call = _field(part, "functionCall", "function_call")
                if isinstance(call, dict) and isinstance(call.get("name"), str):
                    arguments = json.dumps(call.get("args") or {}, separators=(",", ":"))
                    history.call(str(call.get("id") or ""), call["name"], arguments)
            continue
        for part in parts:
            answer = _field(part, "functionResponse", "function_response")
            if isinstance(answer, dict):  # it names its tool itself
                history.result(str(answer.get("id") or ""), _content(answer), str(answer.get("name") or ""))
        history.user(_text(entry))
    return history.conversation()


def _content(answer: dict[str, Any]) -> str:
    """A functionResponse's response as text: its one string value, or its JSON."""
    response = answer.get("response")
    if isinstance(response, dict) and len(response) == 1:
        (value,) = response.values()
        if isinstance(value, str):
            return value
    return json.dumps(response, separators=(",", ":")) if response is not None else ""


def _status(error: ApiError) -> dict[str, Any]:
    return {
        "code": error.status,
        "message": error.message,
        "status": STATUS_NAMES.get(error.status, "UNKNOWN"),
    }


def _signature(script: Script, number: int) -> str:
    return _signature_of(script.identity.token, number)


def _signature_of(token: str, number: int) -> str:
    """Block `number`'s thought signature: opaque bytes, valid base64 (the SDK decodes
    it), from the request's token so the plan cache can re-stamp it (restamp_pairs)."""
    digest = hashlib.blake2b(f"{token}/thought/{number}".encode(), digest_size=24).digest()
    return base64.b64encode(digest).decode("ascii")


def _part(script: Script, block: Block, text: str, after_thought: bool) -> dict[str, Any] | None:
    """A block's part (a reasoning block's is a thought)."""
    if block.kind == "tool":
        assert block.tool is not None
        call: dict[str, Any] = {"name": block.tool.name, "args": _args(block.text)}
        if block.tool.id_given:
            call["id"] = block.tool.id
        return {"functionCall": call, "thoughtSignature": _signature(script, block.number)}
    part: dict[str, Any] = {"text": text}
    if block.kind == "reasoning":
        part["thought"] = True
    elif after_thought:
        part["thoughtSignature"] = _signature(script, block.number)
    return part


def _args(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        return {}  # scripted arguments that are not JSON: Gemini sends an object or nothing
    return parsed if isinstance(parsed, dict) else {}


def _usage(usage: UsageItem, *, final: bool) -> dict[str, int]:
    if not final:
        return {"promptTokenCount": usage.input, "totalTokenCount": usage.input}
    return {
        "promptTokenCount": usage.input,
        "candidatesTokenCount": usage.output,
        "totalTokenCount": usage.input + usage.output,
    }


def _finish_reason(reply: Reply) -> str:
    if reply.finish is None and reply.refusal and not reply.text:
        return "SAFETY"
    return FINISH_REASONS[reply.finish_reason]


def _chunk(rendering: Rendering, parts: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
    script = rendering.script
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if final:
        candidate["finishReason"] = _finish_reason(script.reply)
    candidate["index"] = 0
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(script.reply.usage, final=final),
        "modelVersion": script.model,
        "responseId": rendering.response.id or script.identity.token,
    }


class _GeminiStream:
    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering
        self.script = rendering.script
        self.le = rendering.line_ending
        self.sse = _sse(rendering.request)
        self.started = False  # the JSON array's `[` is written

    def events(self) -> list[TimedEvent]:
        # (time, parts) for a chunk, or (time, bytes) passed through as they are
        pieces: list[tuple[float, list[dict[str, Any]] | bytes]] = []
        after_thought = False
        for at, mark in segment(self.script):
            match mark:  # exhaustive: a new item kind is a type error until handled
                case Add() if mark.block.kind != "tool":
                    part = _part(self.script, mark.block, mark.text, after_thought)
                    assert part is not None
                    pieces.append((at, [part]))
                    after_thought = mark.block.kind == "reasoning"
                case Close() if mark.block.kind == "tool":
                    part = _part(self.script, mark.block, mark.block.text, after_thought)
                    assert part is not None
                    pieces.append((at, [part]))
                    after_thought = False
                case Open() | Add() | Close():
                    pass  # text needs no opening; a call is sent whole when it closes
                case ErrorItem():
                    pieces.append((at, self.frame({"error": _status(mark.error)})))
                case EventItem() | CommentItem() | RawItem():
                    pieces.append((at, passthrough(mark, self.le)))
                case DoneItem() | FinishItem() | UsageItem() | StopItem():
                    pass  # no end marker; finish and usage ride on the last chunk
                case Delta() | ToolStart() | ToolArgs():
                    pass  # segment() turns these into Open / Add / Close
                case _:
                    assert_never(mark)
        reply = self.script.reply
        finished = reply.stop is None and reply.error is None
        chunks = [i for i, (_, piece) in enumerate(pieces) if isinstance(piece, list)]
        if finished and not chunks:
            pieces.append((self.script.end_at, [{"text": ""}]))
            chunks.append(len(pieces) - 1)
        last = chunks[-1] if finished else -1
        out: list[TimedEvent] = []
        for i, (at, piece) in enumerate(pieces):
            if isinstance(piece, list):
                piece = self.frame(_chunk(self.rendering, piece, final=i == last))
            out.append(TimedEvent(at, piece))
        if not self.sse and finished:
            out.append(TimedEvent(self.script.end_at, b"]"))
        return out

    def frame(self, payload: dict[str, Any]) -> bytes:
        if self.sse:
            return sse.data(payload, self.le)
        lead = b"," + self.le.encode() if self.started else b"["
        self.started = True
        return lead + sse.to_json(payload).encode("ascii")


class _GeminiReader:
    """A recorded Gemini stream (SSE events) or body (one response, or the JSON
    array's list of them), back into steps (recording)."""

    def __init__(self, steps: StepSink) -> None:
        self.steps = steps
        self.calls = 0
        self.usage: tuple[int | None, int | None] | None = None
        self.finished = False
        self.pinned = False

    def frame(self, frame: Frame) -> None:
        if frame.comment is not None:
            self.steps.comment(frame.comment)
            return
        payload = json_object(frame.data)
        if payload is None:
            self.steps.event(frame)
        else:
            self.read(payload)

    def body(self, body: Any) -> None:
        for payload in body if isinstance(body, list) else [body]:
            if isinstance(payload, dict):
                self.read(payload)

    def read(self, payload: dict[str, Any]) -> None:
        fields = error_fields(payload.get("error"))
        if fields is not None:
            message, _, _, _ = fields
            status = payload["error"].get("status")
            self.steps.error(message, None, status if isinstance(status, str) else None, None)
            return
        if not self.pinned:
            self.pinned = True
            response_id, model = payload.get("responseId"), payload.get("modelVersion")
            self.steps.pin(
                id=response_id if isinstance(response_id, str) else None,
                model=model if isinstance(model, str) else None,
            )
        usage = payload.get("usageMetadata")
        if isinstance(usage, dict):
            counts = usage.get("promptTokenCount"), usage.get("candidatesTokenCount")
            self.usage = (
                whole(counts[0]),
                whole(counts[1]),
            )
        candidates = payload.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if not isinstance(candidate, dict):
            return
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, dict):
                continue
            call = part.get("functionCall")
            if isinstance(call, dict) and isinstance(call.get("name"), str):
                self.steps.tool_start(self.calls, str(call.get("id") or ""), call["name"])
                self.steps.tool_args(self.calls, json.dumps(call.get("args") or {}, ensure_ascii=False))
                self.calls += 1
            elif isinstance(part.get("text"), str) and part["text"]:
                self.steps.text("reasoning" if part.get("thought") else "text", part["text"])
        reason = candidate.get("finishReason")
        if isinstance(reason, str):
            self.finished = True
            finish = "tool_calls" if self.calls and reason == "STOP" else _FINISH_OF.get(reason, "stop")
            self.steps.finish(finish)
            if self.usage is not None:
                self.steps.usage(*self.usage)

    def ending(self) -> Ending:
        return "complete" if self.finished else "cut"
