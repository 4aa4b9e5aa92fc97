"""Raw Server-Sent Events, for any endpoint that is not one of the known APIs
(a scenario's `match.path` names it): each step as plain SSE, nothing added."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, assert_never

from . import sse
from .api import ApiDefaults, Rendering
from .data_stream import passthrough
from .errors import ApiError
from .openai_request import content_text
from .plan import TimedEvent
from .request import ApiRequest
from .script import (
    CommentItem,
    Delta,
    DoneItem,
    ErrorItem,
    EventItem,
    FinishItem,
    RawItem,
    StopItem,
    ToolArgs,
    ToolStart,
    UsageItem,
)


class RawApi(ApiDefaults):
    """`text` → `data: TEXT`; `event`, `comment`, `raw` and `done` as written;
    `error` → `event: error` with `{"error": {...}}`. Steps that belong to an LLM
    API (tool calls, finish, usage, reasoning, refusal) have no raw form and are
    skipped. No `[DONE]` unless the scenario has a `done` step."""

    name = "raw"
    any_path = True
    unsupported = frozenset({"reasoning", "refusal", "tool_call", "function_call", "finish", "usage"})

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        # Any body is fine; read what the matching rules can use, if it is there.
        if not isinstance(body, dict):
            return replace(request, stream=True)
        model = body.get("model")
        messages = body.get("messages")
        last = ""
        if isinstance(messages, list):
            users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            last = content_text(users[-1].get("content")) if users else ""
        elif isinstance(body.get("prompt"), str):
            last = body["prompt"]
        return replace(
            request,
            model=model if isinstance(model, str) else "",
            last_message=last,
            stream=body.get("stream") is not False,
        )

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {"error": {"message": error.message, "type": error.type, "code": error.code}}

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return sse.event(sse.to_json(self.error_body(error)), name="error", line_ending=line_ending)

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {"x-request-id": request_id}

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        le = rendering.line_ending
        out: list[TimedEvent] = []
        for beat in rendering.script.beats:
            item = beat.item
            match item:  # exhaustive: a new item kind is a type error until handled
                case Delta() if item.channel == "text":
                    out.append(TimedEvent(beat.at, sse.event(item.text, line_ending=le)))
                case ErrorItem():
                    out.append(TimedEvent(beat.at, self.error_event(item.error, le)))
                case DoneItem():
                    out.append(TimedEvent(beat.at, sse.event("[DONE]", line_ending=le)))
                case EventItem() | CommentItem() | RawItem():
                    out.append(TimedEvent(beat.at, passthrough(item, le)))
                case Delta() | ToolStart() | ToolArgs() | FinishItem() | UsageItem():
                    pass  # no raw form (see the class docstring)
                case StopItem():
                    pass  # the player ends the connection
                case _:
                    assert_never(item)
        return out

    def body(self, rendering: Rendering) -> Any:
        reply = rendering.script.reply
        return {"text": reply.text}
