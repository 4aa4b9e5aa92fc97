"""AWS Bedrock Runtime: `POST /model/{modelId}/converse`, `/converse-stream`,
`/invoke` and `/invoke-with-response-stream`.

The model is in the path (percent-encoded by botocore; `:` and `/` included); the
operation says whether to stream. Streams are `application/vnd.amazon.eventstream`
frames (render/eventstream.py) with string headers (`:event-type`, `:message-type`,
`:content-type`) and a JSON payload.

Converse streams `messageStart`, a `contentBlockStart` for each tool call (text blocks
go straight to deltas), `contentBlockDelta`s (text, tool input as JSON fragments,
reasoning), `contentBlockStop`, `messageStop` with the stop reason, and `metadata`
with the usage, last. Invoke is Anthropic Messages on Bedrock: the request body is
Anthropic's (without `model`), and each Anthropic event is a `chunk` frame whose
payload's `bytes` is the event's JSON in base64. An error inside a stream is an
`exception` frame (`throttlingException`, ...); a status error is AWS JSON with
`x-amzn-ErrorType`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from typing import Any, assert_never

from .anthropic import AnthropicApi
from .api import ApiDefaults, Rendering
from .blocks import Add, Close, Open, final_blocks, one_at_a_time, segment
from .errors import ApiError
from .eventstream import EventStreamFrames, event_frame, frame
from .frames import Frames, SseFrames
from .plan import TimedEvent
from .reading import Ending, Frame, StepSink, WireReader, json_object, whole
from .request import ApiRequest, BadRequest, Conversation, History, Tool
from .script import (
    CommentItem,
    Delta,
    DoneItem,
    ErrorItem,
    EventItem,
    FinishItem,
    RawItem,
    Reply,
    Script,
    StopItem,
    ToolArgs,
    ToolStart,
    UsageItem,
)

_OPERATIONS = ("converse", "converse-stream", "invoke", "invoke-with-response-stream")
_PATH = re.compile(r"/model/(.+)/(converse|converse-stream|invoke|invoke-with-response-stream)$")
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filtered",
}
_FINISH_OF = {reason: finish for finish, reason in STOP_REASONS.items() if finish != "function_call"}
_FINISH_OF.update({"stop_sequence": "stop", "guardrail_intervened": "content_filter"})
# status → (the error type of a status error, the exception frame inside a stream)
ERROR_TYPES = {
    400: ("ValidationException", "validationException"),
    403: ("AccessDeniedException", "accessDeniedException"),
    404: ("ResourceNotFoundException", "resourceNotFoundException"),
    408: ("ModelTimeoutException", "modelTimeoutException"),
    424: ("ModelErrorException", "modelStreamErrorException"),
    429: ("ThrottlingException", "throttlingException"),
    500: ("InternalServerException", "internalServerException"),
    503: ("ServiceUnavailableException", "serviceUnavailableException"),
}
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_ANTHROPIC = AnthropicApi()


def exception_frame(error: ApiError) -> bytes:
    _, kind = ERROR_TYPES.get(error.status, ("", "modelStreamErrorException"))
    data = json.dumps({"message": error.message}, separators=(",", ":")).encode()
    headers = [
        (":exception-type", kind),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    ]
    return frame(headers, data)


class BedrockApi(ApiDefaults):
    name = "bedrock"
    routes = tuple(f"/model/{{model_id:.+}}/{operation}" for operation in _OPERATIONS)
    malformed = (
        frame([(":event-type", "contentBlockDelta"), (":message-type", "event")], b"{}")[:-4] + b"\0\0\0\0"
    )
    unsupported = frozenset({"comment", "done"})  # event-stream frames have no comment or end marker

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": [{"text": message}]}]}

    def sample_path(self, model: str, *, stream: bool) -> str:
        return f"/model/{model}/{'converse-stream' if stream else 'converse'}"

    def stream_headers(self, request: ApiRequest) -> dict[str, str]:
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        if _invoke(request):
            headers["x-amzn-bedrock-content-type"] = "application/json"
        return headers

    cacheable = False  # each frame's CRCs cover its ids: re-stamping bytes would break them

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        found = _PATH.search(request.path)
        model, operation = (found.group(1), found.group(2)) if found else ("", "converse")
        stream = operation.endswith("stream")
        if operation.startswith("invoke"):
            if not isinstance(body, dict):
                raise BadRequest("Malformed input request, please reformat your input and try again.")
            parsed = _ANTHROPIC.parse({**body, "model": model}, request)
            return replace(parsed, api=self.name, stream=stream, model=model)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise BadRequest(
                "1 validation error detected: Value null at 'messages' failed to satisfy constraint"
            )
        messages = body["messages"]
        system = " ".join(
            b["text"]
            for b in body.get("system") or ()
            if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
        users = [_text(m) for m in messages if isinstance(m, dict) and m.get("role") == "user" and _text(m)]
        config = body.get("toolConfig")
        return replace(
            request,
            model=model,
            stream=stream,
            last_message=users[-1] if users else "",
            tools=_tools(config),
            tool_choice=_tool_choice(config),
            include_usage=True,
            input_words=len(" ".join([system, *(_text(m) for m in messages if isinstance(m, dict))]).split()),
            conversation=_conversation(messages, system),
        )

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {"message": error.message}

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return exception_frame(error)

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        headers = {"x-amzn-requestid": request_id} if request_id else {}
        if error is not None:
            kind, _ = ERROR_TYPES.get(error.status, ("InternalServerException", ""))
            headers["x-amzn-errortype"] = kind + _ERROR_TYPE_SUFFIX
        return headers

    def issued_calls(self, script: Script) -> tuple[tuple[str, str, str], ...]:
        return tuple((_tool_id(c.id, c.id_given), c.name, c.arguments) for c in script.reply.tool_calls)

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        if _invoke(rendering.request):
            return _invoke_stream(rendering)
        return _ConverseStream(rendering).events()

    def body(self, rendering: Rendering) -> Any:
        if _invoke(rendering.request):
            return _ANTHROPIC.body(rendering)
        script = rendering.script
        content: list[dict[str, Any]] = []
        for block in final_blocks(script):
            if block.kind == "tool":
                assert block.tool is not None
                tool = {"toolUseId": _tool_id(block.tool.id, block.tool.id_given), "name": block.tool.name}
                content.append({"toolUse": {**tool, "input": _input(block.text)}})
            elif block.kind == "reasoning":
                content.append({"reasoningContent": {"reasoningText": {"text": block.text}}})
            else:
                content.append({"text": block.text})
        usage = script.reply.usage
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": _stop_reason(script.reply),
            "usage": _usage(usage),
            "metrics": {"latencyMs": int(script.end_at * 1000)},
        }

    def frames(self) -> Frames:
        return EventStreamFrames()

    def readable(self, data: bytes) -> str:
        shown = []
        for each in EventStreamFrames().feed(data):
            named = dict(each.headers)
            shown.append(f"[{named.get(':message-type', 'event')} {each.event}] {each.data}")
        return "\n".join(shown) + "\n" if shown else data.hex()

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        if _invoke(request):
            inner = _ANTHROPIC.reader(request, steps)
            assert inner is not None
            return _InvokeReader(inner, steps)
        return _ConverseReader(steps)


def _invoke(request: ApiRequest) -> bool:
    return "/invoke" in request.path


def _tool_id(made: str, given: bool) -> str:
    """A tool call's id in Bedrock's spelling (`tooluse_…`), unless the scenario set it."""
    return made if given else "tooluse_" + made.removeprefix("call_")


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(b["text"] for b in content or () if isinstance(b, dict) and isinstance(b.get("text"), str))


def _tools(config: Any) -> tuple[Tool, ...]:
    tools = config.get("tools") if isinstance(config, dict) else None
    found = []
    for tool in tools if isinstance(tools, list) else ():
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            schema = spec.get("inputSchema")
            found.append(Tool(spec["name"], schema.get("json") if isinstance(schema, dict) else None))
    return tuple(found)


def _tool_choice(config: Any) -> str | None:
    choice = config.get("toolChoice") if isinstance(config, dict) else None
    if not isinstance(choice, dict):
        return None
    if isinstance(choice.get("tool"), dict):
        return str(choice["tool"].get("name"))
    return "required" if "any" in choice else "auto" if "auto" in choice else None


def _conversation(messages: list[Any], system: str) -> Conversation:
    """Turn: 1 + the assistant messages. This turn's tool results: the toolResult blocks
    after the last assistant message, named by the toolUse they answer."""
    history = History(system)
    for message in messages:
        if not isinstance(message, dict):
            continue
        blocks: list[Any] = message["content"] if isinstance(message.get("content"), list) else []
        if message.get("role") == "assistant":
            history.assistant_turn()
            for block in blocks:
                use = block.get("toolUse") if isinstance(block, dict) else None
                if isinstance(use, dict) and isinstance(use.get("name"), str):
                    arguments = json.dumps(use.get("input") or {}, separators=(",", ":"))
                    history.call(str(use.get("toolUseId") or ""), use["name"], arguments)
            continue
        for block in blocks:
            result = block.get("toolResult") if isinstance(block, dict) else None
            if isinstance(result, dict):
                history.result(str(result.get("toolUseId") or ""), _result_text(result.get("content")))
        history.user(_text(message))
    return history.conversation()


def _result_text(content: Any) -> str:
    """A toolResult's content as text: its text blocks, or its JSON blocks as JSON."""
    parts = []
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict) and "json" in block:
            parts.append(json.dumps(block["json"], separators=(",", ":")))
    return "".join(parts)


def _input(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}  # scripted arguments that are not JSON: no input object to give


def _stop_reason(reply: Reply) -> str:
    if reply.finish is None and reply.refusal and not reply.text:
        return "content_filtered"
    return STOP_REASONS[reply.finish_reason]


def _usage(usage: UsageItem) -> dict[str, int]:
    return {
        "inputTokens": usage.input,
        "outputTokens": usage.output,
        "totalTokens": usage.input + usage.output,
    }


class _ConverseStream:
    def __init__(self, rendering: Rendering) -> None:
        self.script = rendering.script
        self.out: list[TimedEvent] = []
        self.started = False

    def emit(self, at: float, event: str, payload: dict[str, Any]) -> None:
        if not self.started:
            self.started = True
            self.out.append(TimedEvent(at, event_frame("messageStart", {"role": "assistant"})))
        self.out.append(TimedEvent(at, event_frame(event, payload)))

    def events(self) -> list[TimedEvent]:
        for at, mark in one_at_a_time(segment(self.script)):
            match mark:  # exhaustive: a new item kind is a type error until handled
                case Open() | Add() | Close():
                    self.block(at, mark)
                case ErrorItem():
                    self.out.append(TimedEvent(at, exception_frame(mark.error)))
                case EventItem():
                    data = json_object(mark.data) if mark.data is not None else None
                    self.emit(at, mark.event or "event", data if data is not None else {"data": mark.data})
                case RawItem():
                    self.out.append(TimedEvent(at, mark.text.encode("utf-8")))
                case CommentItem() | DoneItem():
                    pass  # event-stream frames have no form for them
                case FinishItem() | UsageItem() | StopItem():
                    pass  # they shape messageStop and metadata, at the end; a stop is the player's
                case Delta() | ToolStart() | ToolArgs():
                    pass  # segment() turns these into Open / Add / Close
                case _:
                    assert_never(mark)
        reply = self.script.reply
        if reply.stop is None and reply.error is None:
            at = self.script.end_at
            self.emit(at, "messageStop", {"stopReason": _stop_reason(reply)})
            metrics = {"latencyMs": int(at * 1000)}
            self.emit(at, "metadata", {"usage": _usage(reply.usage), "metrics": metrics})
        return self.out

    def block(self, at: float, mark: Open | Add | Close) -> None:
        block = mark.block
        index = block.number
        if isinstance(mark, Open):
            if block.kind == "tool":
                assert block.tool is not None
                start = {
                    "toolUse": {
                        "toolUseId": _tool_id(block.tool.id, block.tool.id_given),
                        "name": block.tool.name,
                    }
                }
                self.emit(at, "contentBlockStart", {"contentBlockIndex": index, "start": start})
        elif isinstance(mark, Add):
            if block.kind == "tool":
                delta: dict[str, Any] = {"toolUse": {"input": mark.text}}
            elif block.kind == "reasoning":
                delta = {"reasoningContent": {"text": mark.text}}
            else:
                delta = {"text": mark.text}
            self.emit(at, "contentBlockDelta", {"contentBlockIndex": index, "delta": delta})
        else:
            self.emit(at, "contentBlockStop", {"contentBlockIndex": index})


def _invoke_stream(rendering: Rendering) -> list[TimedEvent]:
    """Anthropic's events, each a `chunk` frame with its JSON in base64; an error event
    becomes an exception frame. Pings, which Bedrock does not pass on, are left out."""
    out = []
    for event in _ANTHROPIC.stream(rendering):
        frames = SseFrames().feed(event.data) if event.data.startswith(b"event:") else []
        if not frames:
            out.append(event)  # a raw step's bytes, as they are
            continue
        for each in frames:
            payload = json_object(each.data)
            if payload is None or each.event == "ping":
                continue
            if each.event == "error":
                error: dict[str, Any] = payload["error"] if isinstance(payload.get("error"), dict) else {}
                status = {"overloaded_error": 503, "rate_limit_error": 429, "api_error": 500}.get(
                    str(error.get("type")), 424
                )
                failure = ApiError(
                    status, str(error.get("message") or ""), str(error.get("type")), None, None
                )
                out.append(TimedEvent(event.at, exception_frame(failure)))
                continue
            if each.event == "message_stop":
                usage = rendering.script.reply.usage
                payload["amazon-bedrock-invocationMetrics"] = {
                    "inputTokenCount": usage.input,
                    "outputTokenCount": usage.output,
                    "invocationLatency": int(rendering.script.end_at * 1000),
                    "firstByteLatency": 0,
                }
            data = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
            out.append(TimedEvent(event.at, event_frame("chunk", {"bytes": data})))
    return out


class _ConverseReader:
    """A recorded ConverseStream (its frames) or Converse body, back into steps."""

    def __init__(self, steps: StepSink) -> None:
        self.steps = steps
        self.tools: dict[int, int] = {}  # contentBlockIndex → the call's index among calls
        self.done = False

    def frame(self, frame: Frame) -> None:
        payload = json_object(frame.data)
        named = dict(frame.headers)
        if named.get(":message-type") == "exception":
            message = payload.get("message") if payload else None
            self.steps.error(str(message or ""), None, frame.event, None)
            return
        if payload is None:
            self.steps.event(frame)
            return
        index = payload.get("contentBlockIndex")
        if frame.event == "contentBlockStart" and type(index) is int:
            use = payload.get("start", {}).get("toolUse") if isinstance(payload.get("start"), dict) else None
            if isinstance(use, dict):
                self.tools[index] = number = len(self.tools)
                self.steps.tool_start(number, str(use.get("toolUseId") or ""), str(use.get("name") or ""))
        elif frame.event == "contentBlockDelta" and type(index) is int:
            self.delta(index, payload.get("delta"))
        elif frame.event == "messageStop":
            self.steps.finish(_FINISH_OF.get(str(payload.get("stopReason")), "stop"))
        elif frame.event == "metadata":
            self.done = True
            usage: dict[str, Any] = payload["usage"] if isinstance(payload.get("usage"), dict) else {}
            counts = usage.get("inputTokens"), usage.get("outputTokens")
            self.steps.usage(*map(whole, counts))
        elif frame.event not in ("messageStart", "contentBlockStop"):
            self.steps.event(frame)

    def delta(self, index: int, delta: Any) -> None:
        if not isinstance(delta, dict):
            return
        use = delta.get("toolUse")
        reasoning = delta.get("reasoningContent")
        if isinstance(delta.get("text"), str) and delta["text"]:
            self.steps.text("text", delta["text"])
        elif (
            isinstance(use, dict)
            and index in self.tools
            and isinstance(use.get("input"), str)
            and use["input"]
        ):
            self.steps.tool_args(self.tools[index], use["input"])
        elif isinstance(reasoning, dict) and isinstance(reasoning.get("text"), str) and reasoning["text"]:
            self.steps.text("reasoning", reasoning["text"])

    def body(self, body: Any) -> None:
        output = body.get("output") if isinstance(body, dict) else None
        message = output.get("message") if isinstance(output, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        for number, block in enumerate(content if isinstance(content, list) else ()):
            if not isinstance(block, dict):
                continue
            use, reasoning = block.get("toolUse"), block.get("reasoningContent")
            if isinstance(block.get("text"), str):
                self.steps.text("text", block["text"])
            elif isinstance(use, dict):
                self.tools[number] = call = len(self.tools)
                self.steps.tool_start(call, str(use.get("toolUseId") or ""), str(use.get("name") or ""))
                self.steps.tool_args(call, json.dumps(use.get("input") or {}, ensure_ascii=False))
            elif isinstance(reasoning, dict) and isinstance(reasoning.get("reasoningText"), dict):
                self.steps.text("reasoning", str(reasoning["reasoningText"].get("text") or ""))
        assert isinstance(body, dict)
        self.frame(Frame(data=json.dumps({"stopReason": body.get("stopReason")}), event="messageStop"))
        self.frame(Frame(data=json.dumps({"usage": body.get("usage")}), event="metadata"))

    def ending(self) -> Ending:
        return "complete" if self.done else "cut"


class _InvokeReader:
    """A recorded invoke-with-response-stream: each `chunk` frame's Anthropic event,
    read by Anthropic's reader."""

    def __init__(self, inner: WireReader, steps: StepSink) -> None:
        self.inner = inner
        self.steps = steps

    def frame(self, frame: Frame) -> None:
        payload = json_object(frame.data)
        if dict(frame.headers).get(":message-type") == "exception":
            message = payload.get("message") if payload else None
            self.steps.error(str(message or ""), None, frame.event, None)
            return
        encoded = payload.get("bytes") if payload is not None else None
        if frame.event != "chunk" or not isinstance(encoded, str):
            self.steps.event(frame)
            return
        data = base64.b64decode(encoded).decode("utf-8", "replace")
        event = json_object(data)
        self.inner.frame(Frame(data=data, event=str(event.get("type")) if event else None))

    def body(self, body: Any) -> None:
        self.inner.body(body)

    def ending(self) -> Ending:
        return self.inner.ending()
