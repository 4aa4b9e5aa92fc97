"""OpenAI Responses: `POST /v1/responses`.

Every event carries `type` and a rising `sequence_number`, and an `event:` line
of the same name. `response.created` comes first and one terminal event last
(`response.completed`, `.incomplete` for finish length/content_filter, `.failed`
after an error); every output item added is also done. No `[DONE]` unless a `done`
step asks for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, assert_never

from . import sse
from .api import Rendering
from .blocks import Add, Block, Close, Open, final_blocks, one_at_a_time, segment
from .data_stream import passthrough
from .errors import ApiError
from .openai_request import OpenAIErrors, check_stream, check_tools, content_text, invalid_type, require_model
from .plan import TimedEvent
from .reading import Channel, Ending, Frame, StepSink, WireReader, error_fields, typed_event, whole
from .request import ApiRequest, BadRequest, Conversation, History
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

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


class ResponsesApi(OpenAIErrors):
    name = "responses"
    routes = ("/v1/responses",)
    keeps_history = True  # previous_response_id; GET and DELETE /v1/responses/{id}

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {"model": model, "input": message, "stream": stream}

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", None, "invalid_type")
        model = require_model(body)
        stream = check_stream(body)
        raw_input = body.get("input")
        if raw_input is None and body.get("previous_response_id") is None:
            raise BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        last, every = _input_text(raw_input)
        instructions = body.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise invalid_type("instructions", "a string", instructions)
        tools, tool_choice = check_tools(body, chat=False)
        return replace(
            request,
            model=model,
            stream=stream,
            last_message=last,
            tools=tools,
            tool_choice=tool_choice,
            input_words=len(f"{instructions or ''} {every}".split()),
            conversation=_conversation(raw_input, instructions or ""),
        )

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return sse.named("error", sse.to_json(_error_payload(error, 0)), line_ending)

    def with_history(self, request: ApiRequest, stored: Callable[[str], Any]) -> ApiRequest:
        """`previous_response_id`: this request continues the stored chain, whose
        items (inputs and outputs so far) come before its own input."""
        body = request.json
        previous = body.get("previous_response_id") if isinstance(body, dict) else None
        if previous is None:
            return request
        chain = stored(str(previous))
        if chain is None:
            raise BadRequest(
                f"Previous response with id '{previous}' not found.",
                "previous_response_id",
                "previous_response_not_found",
            )
        items = [*chain["items"], *_as_items(body.get("input"))]
        instructions = body.get("instructions") if isinstance(body.get("instructions"), str) else ""
        last, _ = _input_text(items)
        return replace(request, last_message=last, conversation=_conversation(items, instructions))

    def to_store(self, request: ApiRequest, body: bytes) -> tuple[str, Any] | None:
        """The finished response (from its terminal event, or the whole body), the
        response it continued and this request's input, unless it said `store: false`."""
        sent = request.json
        if isinstance(sent, dict) and sent.get("store") is False:
            return None
        response = _finished_response(body)
        if response is None:
            return None
        previous = sent.get("previous_response_id") if isinstance(sent, dict) else None
        return str(response["id"]), {
            "previous": previous,
            "input": _as_items(sent.get("input") if isinstance(sent, dict) else None),
            "response": response,
        }

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        return _ResponsesStream(rendering).events()

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return _ResponsesReader(steps)

    def body(self, rendering: Rendering) -> Any:
        script = rendering.script
        blocks = final_blocks(script)
        status, details = _status(script.reply)
        return _response(rendering, status, [_item(script, b, done=True) for b in blocks], details)


def _error_payload(error: ApiError, sequence: int) -> dict[str, Any]:
    return {
        "type": "error",
        "sequence_number": sequence,
        "code": error.code or error.type,
        "message": error.message,
        "param": error.param,
    }


def _input_text(raw: Any) -> tuple[str, str]:
    """(the last user input's text, all input text), from a string or a list of items."""
    if raw is None:
        return "", ""
    if isinstance(raw, str):
        return raw, raw
    if not isinstance(raw, list):
        raise invalid_type("input", "a string or an array of input items", raw)
    last, texts = "", []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid_type(f"input[{i}]", "an object", item)
        text = content_text(item.get("content"))
        if not text and isinstance(item.get("output"), str):
            text = item["output"]  # a function_call_output item
        texts.append(text)
        if item.get("role") == "user":
            last = text
    return last, "\n".join(texts)


def _status(reply: Reply) -> tuple[str, dict[str, str] | None]:
    if reply.error is not None:
        return "failed", None
    reason = reply.finish_reason
    if reason in _INCOMPLETE:
        return "incomplete", {"reason": _INCOMPLETE[reason]}
    return "completed", None


def _ids(script: Script, block: Block) -> tuple[str, str]:
    token = script.identity.token[:20]
    prefix = {"text": "msg", "refusal": "msg", "reasoning": "rs", "tool": "fc"}[block.kind]
    return f"{prefix}_{token}{block.number:04d}", token


def _item(script: Script, block: Block, *, done: bool) -> dict[str, Any]:
    item_id, _ = _ids(script, block)
    status = "completed" if done else "in_progress"
    if block.kind == "tool":
        assert block.tool is not None
        return {
            "id": item_id,
            "type": "function_call",
            "status": status,
            "call_id": block.tool.id,
            "name": block.tool.name,
            "arguments": block.text if done else "",
        }
    if block.kind == "reasoning":
        summary = [{"type": "summary_text", "text": block.text}] if done else []
        return {"id": item_id, "type": "reasoning", "summary": summary}
    content = [_part(block, done)] if done else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _part(block: Block, done: bool) -> dict[str, Any]:
    text = block.text if done else ""
    if block.kind == "refusal":
        return {"type": "refusal", "refusal": text}
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _usage(usage: UsageItem) -> dict[str, Any]:
    return {
        "input_tokens": usage.input,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input + usage.output,
    }


def _response(
    rendering: Rendering,
    status: str,
    output: list[dict[str, Any]],
    incomplete: dict[str, str] | None = None,
    error: ApiError | None = None,
) -> dict[str, Any]:
    script, request = rendering.script, rendering.request
    final = status != "in_progress"
    return {
        "id": rendering.response.id or f"resp_{script.identity.token}",
        "object": "response",
        "created_at": rendering.response.created or script.identity.created,
        "status": status,
        "model": script.model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": request.tool_choice if request.tool_choice in ("none", "required") else "auto",
        "tools": [
            {"type": "function", "name": t.name, "parameters": t.parameters, "strict": False}
            for t in request.tools
        ],
        "error": {"code": error.code or error.type, "message": error.message} if error else None,
        "incomplete_details": incomplete,
        "usage": _usage(script.reply.usage) if final and status != "failed" else None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
    }


class _ResponsesStream:
    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering
        self.script = rendering.script
        self.le = rendering.line_ending
        self.out: list[TimedEvent] = []
        self.sequence = 0
        self.started = False
        self.done_items: dict[int, dict[str, Any]] = {}

    def emit(self, at: float, payload: dict[str, Any]) -> None:
        kind = payload["type"]
        payload = {"type": kind, "sequence_number": self.sequence, **payload}
        self.sequence += 1
        self.out.append(TimedEvent(at, sse.named(kind, sse.to_json(payload), self.le)))

    def emit_delta(self, at: float, kind: str, where: str, text: str, tail: str = "") -> None:
        """A delta event, spelled directly: they are most of a stream's events."""
        payload = (
            f'{{"type":"{kind}","sequence_number":{self.sequence},{where},'
            f'"delta":{sse.json_string(text)}{tail}}}'
        )
        self.sequence += 1
        self.out.append(TimedEvent(at, sse.named(kind, payload, self.le)))

    def start(self, at: float) -> None:
        if not self.started:
            self.started = True
            created = _response(self.rendering, "in_progress", [])
            self.emit(at, {"type": "response.created", "response": created})
            self.emit(at, {"type": "response.in_progress", "response": created})

    def events(self) -> list[TimedEvent]:
        for at, mark in one_at_a_time(segment(self.script)):
            match mark:  # exhaustive: a new item kind is a type error until handled
                case Open() | Add() | Close():
                    self.start(at)
                    self.block(at, mark)
                case ErrorItem():
                    self.start(at)
                    error = mark.error
                    payload = _error_payload(error, self.sequence)
                    self.sequence += 1
                    self.out.append(TimedEvent(at, sse.named("error", sse.to_json(payload), self.le)))
                    failed = _response(self.rendering, "failed", self.output(), error=error)
                    self.emit(at, {"type": "response.failed", "response": failed})
                case DoneItem():
                    self.out.append(TimedEvent(at, sse.event("[DONE]", line_ending=self.le)))
                case EventItem() | CommentItem() | RawItem():
                    self.out.append(TimedEvent(at, passthrough(mark, self.le)))
                case FinishItem() | UsageItem():
                    pass  # they shape the terminal event, at the end
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
            status, details = _status(reply)
            final = _response(self.rendering, status, self.output(), details)
            self.emit(at, {"type": f"response.{status}", "response": final})
        return self.out

    def output(self) -> list[dict[str, Any]]:
        return [self.done_items[n] for n in sorted(self.done_items)]

    def block(self, at: float, mark: Open | Add | Close) -> None:
        block = mark.block
        item_id, _ = _ids(self.script, block)
        where = {"item_id": item_id, "output_index": block.number}
        if isinstance(mark, Open):
            self.emit(
                at,
                {
                    "type": "response.output_item.added",
                    "output_index": block.number,
                    "item": _item(self.script, block, done=False),
                },
            )
            if block.kind in ("text", "refusal"):
                self.emit(
                    at,
                    {
                        "type": "response.content_part.added",
                        **where,
                        "content_index": 0,
                        "part": _part(block, done=False),
                    },
                )
            elif block.kind == "reasoning":
                self.emit(
                    at,
                    {
                        "type": "response.reasoning_summary_part.added",
                        **where,
                        "summary_index": 0,
                        "part": {"type": "summary_text", "text": ""},
                    },
                )
        elif isinstance(mark, Add):
            # the same fields, in the same order, as `where` and the other events give
            at_item = f'"item_id":"{item_id}","output_index":{block.number}'
            if block.kind == "text":
                self.emit_delta(
                    at,
                    "response.output_text.delta",
                    at_item + ',"content_index":0',
                    mark.text,
                    ',"logprobs":[]',
                )
            elif block.kind == "refusal":
                self.emit_delta(at, "response.refusal.delta", at_item + ',"content_index":0', mark.text)
            elif block.kind == "reasoning":
                self.emit_delta(
                    at, "response.reasoning_summary_text.delta", at_item + ',"summary_index":0', mark.text
                )
            elif mark.text:
                self.emit_delta(at, "response.function_call_arguments.delta", at_item, mark.text)
        else:
            text = block.text
            if block.kind == "text":
                self.emit(
                    at,
                    {
                        "type": "response.output_text.done",
                        **where,
                        "content_index": 0,
                        "text": text,
                        "logprobs": [],
                    },
                )
            elif block.kind == "refusal":
                self.emit(at, {"type": "response.refusal.done", **where, "content_index": 0, "refusal": text})
            elif block.kind == "reasoning":
                self.emit(
                    at,
                    {
                        "type": "response.reasoning_summary_text.done",
                        **where,
                        "summary_index": 0,
                        "text": text,
                    },
                )
                self.emit(
                    at,
                    {
                        "type": "response.reasoning_summary_part.done",
                        **where,
                        "summary_index": 0,
                        "part": {"type": "summary_text", "text": text},
                    },
                )
            else:
                assert block.tool is not None
                self.emit(
                    at,
                    {
                        "type": "response.function_call_arguments.done",
                        **where,
                        "name": block.tool.name,
                        "arguments": text,
                    },
                )
            if block.kind in ("text", "refusal"):
                self.emit(
                    at,
                    {
                        "type": "response.content_part.done",
                        **where,
                        "content_index": 0,
                        "part": _part(block, done=True),
                    },
                )
            item = _item(self.script, block, done=True)
            self.done_items[block.number] = item
            self.emit(at, {"type": "response.output_item.done", "output_index": block.number, "item": item})


_ASSISTANT_ITEMS = ("function_call", "reasoning")


def _conversation(raw_input: Any, instructions: str) -> Conversation:
    """The conversation in `input` (replayed history): the turn is 1 + the runs of
    assistant output items (messages, function calls, reasoning); the results are the
    `function_call_output` items after the last run, tied to their calls by call_id.
    (A `previous_response_id` chain is not followed here.)"""
    if not isinstance(raw_input, list):
        text = raw_input if isinstance(raw_input, str) else ""
        return Conversation(system=instructions, first_message=text)
    history, in_run = History(instructions), False
    for item in raw_input:
        if not isinstance(item, dict):
            continue
        kind, role = item.get("type", "message"), item.get("role")
        assistant = kind in _ASSISTANT_ITEMS or (kind == "message" and role == "assistant")
        if assistant and not in_run:
            history.assistant_turn()
        in_run = assistant
        if kind == "function_call":
            history.call(
                str(item.get("call_id") or ""), str(item.get("name") or ""), str(item.get("arguments") or "")
            )
        elif kind == "function_call_output":
            output = item.get("output")
            history.result(
                str(item.get("call_id") or ""), output if isinstance(output, str) else content_text(output)
            )
        elif kind == "message" and role in ("system", "developer"):
            history.system(content_text(item.get("content")))
        elif kind == "message" and role == "user":
            history.user(content_text(item.get("content")))
    return history.conversation()


def _as_items(raw: Any) -> list[Any]:
    """`input` as a list of items (a string is one user message)."""
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    return list(raw) if isinstance(raw, list) else []


def _finished_response(body: bytes) -> Any:
    """The response object a body ends with: a whole `response`, or the one in a
    stream's terminal event (completed, incomplete or failed)."""
    for kind in (b"response.completed", b"response.incomplete", b"response.failed"):
        marker = b"event: " + kind
        at = body.rfind(marker)
        if at >= 0:
            start = body.find(b"data: ", at)
            end = body.find(b"\n", start)
            try:
                return json.loads(body[start + 6 : end if end >= 0 else None])["response"]
            except (ValueError, KeyError):
                return None
    try:
        whole = json.loads(body)
    except ValueError:
        return None
    return whole if isinstance(whole, dict) and whole.get("object") == "response" else None


# the delta events that carry words, and their channel
_DELTA_CHANNELS: dict[str, Channel] = {
    "response.output_text.delta": "text",
    "response.refusal.delta": "refusal",
    "response.reasoning_summary_text.delta": "reasoning",
    "response.reasoning_text.delta": "reasoning",
}
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


class _ResponsesReader:
    """A recorded Responses stream or body, back into steps (recording). The events
    the renderer makes from the steps (in_progress, parts, `.done`s) are not steps."""

    def __init__(self, steps: StepSink) -> None:
        self.steps = steps
        self.calls: dict[int, int] = {}  # output_index → the call's index among calls
        self.failed = False
        self.ended = False

    def frame(self, frame: Frame) -> None:
        typed = typed_event(frame, self.steps)
        if typed is None:
            return
        kind, payload = typed
        output_index = payload.get("output_index")
        if kind == "response.created":
            self.pin(payload.get("response"))
        elif kind in _DELTA_CHANNELS and isinstance(payload.get("delta"), str):
            self.steps.text(_DELTA_CHANNELS[kind], payload["delta"])
        elif kind == "response.output_item.added":
            item = payload.get("item")
            if isinstance(item, dict) and item.get("type") == "function_call" and type(output_index) is int:
                self.start_call(output_index, item)
        elif kind == "response.function_call_arguments.delta" and output_index in self.calls:
            if isinstance(payload.get("delta"), str) and payload["delta"]:
                self.steps.tool_args(self.calls[output_index], payload["delta"])
        elif kind == "error":
            self.failed = True
            message = payload.get("message")
            code = payload.get("code")
            self.steps.error(str(message or ""), None, code if isinstance(code, str) else None, None)
        elif kind in _TERMINAL:
            self.ended = True
            self.end(payload.get("response"))
        elif not kind.startswith("response."):
            self.steps.event(frame)

    def pin(self, response: Any) -> None:
        if isinstance(response, dict):
            created, model = response.get("created_at"), response.get("model")
            self.steps.pin(
                id=response.get("id") if isinstance(response.get("id"), str) else None,
                created=int(created) if isinstance(created, (int, float)) and created >= 0 else None,
                model=model if isinstance(model, str) else None,
            )

    def start_call(self, output_index: int, item: dict[str, Any]) -> None:
        self.calls[output_index] = index = len(self.calls)
        call_id = item.get("call_id")
        self.steps.tool_start(index, call_id if isinstance(call_id, str) else "", str(item.get("name") or ""))

    def end(self, response: Any) -> None:
        if not isinstance(response, dict):
            return
        status = response.get("status")
        if status == "failed":
            fields = error_fields(response.get("error"))
            if fields is not None and not self.failed:
                message, _, code, param = fields
                self.steps.error(message, None, code, param)
            return
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        if status == "incomplete":
            self.steps.finish("content_filter" if reason == "content_filter" else "length")
        else:
            self.steps.finish("tool_calls" if self.calls else "stop")
        usage = response.get("usage")
        if isinstance(usage, dict):
            counts = usage.get("input_tokens"), usage.get("output_tokens")
            self.steps.usage(*map(whole, counts))

    def body(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        self.pin(body)
        output = body.get("output")
        for number, item in enumerate(output if isinstance(output, list) else ()):
            if not isinstance(item, dict):
                continue
            if item.get("type") == "function_call":
                self.start_call(number, item)
                self.steps.tool_args(self.calls[number], str(item.get("arguments") or ""))
            elif item.get("type") == "reasoning" and isinstance(item.get("summary"), list):
                for part in item["summary"]:
                    if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"]:
                        self.steps.text("reasoning", part["text"])
            elif item.get("type") == "message" and isinstance(item.get("content"), list):
                for part in item["content"]:
                    if not isinstance(part, dict):
                        continue
                    if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                        self.steps.text("text", part["text"])
                    elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                        self.steps.text("refusal", part["refusal"])
        self.end(body)

    def ending(self) -> Ending:
        return "complete" if self.ended or self.failed else "cut"
