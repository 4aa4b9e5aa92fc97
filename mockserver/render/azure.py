"""Azure OpenAI: `POST /openai/deployments/{deployment}/{chat/completions,
completions,embeddings}?api-version=...`, and the same under `/openai/v1/`.

OpenAI's APIs, as Azure serves them: the deployment is in the path (the body's
`model` may name it too), `api-version` is required on deployment routes, `api-key`
or Bearer both authenticate. A stream starts with Azure's prompt-filter chunk (empty
`choices`, empty id and model, `prompt_filter_results`), and every choice carries
`content_filter_results`; a `content_filter` finish says which category was
filtered. Errors are Azure's: `code` a string (`"429"`), a content-filter error with
its `innererror`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from . import sse
from .api import Api, ApiDefaults, Rendering
from .chat import ChatApi
from .completions import CompletionsApi
from .embeddings import EmbeddingsApi
from .errors import ApiError
from .plan import TimedEvent
from .reading import Ending, Frame, StepSink, WireReader, json_object
from .request import ApiRequest, BadRequest
from .script import Script

_INNER: dict[str, Api] = {
    "chat/completions": ChatApi(),
    "completions": CompletionsApi(),
    "embeddings": EmbeddingsApi(),
}
_PATH = re.compile(r"^/openai/(?:deployments/([^/]+)|v1)/(chat/completions|completions|embeddings)$")
_SAFE = {"filtered": False, "severity": "safe"}
CATEGORIES = ("hate", "self_harm", "sexual", "violence")
PROMPT_FILTER = {
    "prompt_index": 0,
    "content_filter_results": {
        **{c: _SAFE for c in CATEGORIES},
        "jailbreak": {"filtered": False, "detected": False},
    },
}
_FILTERED = {**{c: _SAFE for c in CATEGORIES}, "violence": {"filtered": True, "severity": "high"}}


class AzureApi(ApiDefaults):
    name = "azure"
    routes = tuple(
        f"/openai/{base}/{operation}" for base in ("deployments/{deployment}", "v1") for operation in _INNER
    )
    cacheable = False  # embeddings' bytes are their input's (and Azure is not on the hot path)
    unsupported = frozenset({"reasoning"})  # Chat Completions has no channel for it

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return _INNER["chat/completions"].sample_request(model, message, stream=stream)

    def sample_path(self, model: str, *, stream: bool) -> str:
        return f"/openai/deployments/{model}/chat/completions?api-version=2024-10-21"

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        found = _PATH.match(request.path)
        deployment, operation = (found.group(1), found.group(2)) if found else (None, "chat/completions")
        if deployment is not None and "api-version" not in request.query:
            raise BadRequest("Missing required query parameter: api-version.", "api-version", "BadRequest")
        if deployment is not None and isinstance(body, dict) and "model" not in body:
            body = {**body, "model": deployment}  # the deployment names the model
        parsed = _INNER[operation].parse(body, replace(request, json=body))
        return replace(parsed, api=self.name)

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        if error.code == "content_filter":
            return {
                "error": {
                    "message": error.message,
                    "type": None,
                    "param": error.param or "prompt",
                    "code": "content_filter",
                    "status": error.status,
                    "innererror": {
                        "code": "ResponsibleAIPolicyViolation",
                        "content_filter_result": _FILTERED,
                    },
                }
            }
        # Azure's rate limit says its status as the code (the SDK's `e.code` is "429")
        code = str(error.status) if error.status == 429 or error.code is None else str(error.code)
        return {"error": {"code": code, "message": error.message, "param": error.param, "type": error.type}}

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return sse.data(self.error_body(error), line_ending)

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {"apim-request-id": request_id, "x-request-id": request_id, "x-ms-region": "East US"}

    def issued_calls(self, script: Script) -> tuple[tuple[str, str, str], ...]:
        return _INNER["chat/completions"].issued_calls(script)

    def stream(self, rendering: Rendering) -> Iterator[TimedEvent]:
        inner = _inner(rendering.request)
        events = inner.stream(rendering)
        if inner is _INNER["embeddings"]:
            yield from events
            return
        le = rendering.line_ending
        first = True
        for event in events:
            if first:  # the prompt filter results come first, with the first event
                yield TimedEvent(event.at, sse.data(_prompt_filter_chunk(), le))
                first = False
            yield TimedEvent(event.at, _filtered(event.data, le))
        if first:
            yield TimedEvent(0.0, sse.data(_prompt_filter_chunk(), le))

    def body(self, rendering: Rendering) -> Any:
        inner = _inner(rendering.request)
        body = inner.body(rendering)
        if inner is _INNER["embeddings"] or not isinstance(body, dict):
            return body
        body["prompt_filter_results"] = [PROMPT_FILTER]
        for choice in body.get("choices") or ():
            choice["content_filter_results"] = _choice_filter(choice.get("finish_reason"), has_content=True)
        return body

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        inner = _inner(request).reader(request, steps)
        return _AzureReader(inner) if inner is not None else None


def _inner(request: ApiRequest) -> Api:
    found = _PATH.match(request.path)
    return _INNER[found.group(2) if found else "chat/completions"]


def _prompt_filter_chunk() -> dict[str, Any]:
    return {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [PROMPT_FILTER],
    }


def _choice_filter(finish: Any, *, has_content: bool) -> dict[str, Any]:
    if finish == "content_filter":
        return _FILTERED
    return {c: _SAFE for c in CATEGORIES} if has_content else {}


def _filtered(data: bytes, le: str) -> bytes:
    """A chat or completions chunk with each choice's content-filter results (other
    events, `[DONE]` and errors, as they are)."""
    prefix = b"data: {"
    if not data.startswith(prefix):
        return data
    try:
        payload = json.loads(data[6:])
    except ValueError:
        return data  # a broken chunk (chaos' `malformed`): sent as it is
    choices = payload.get("choices") if isinstance(payload, dict) else None
    if not isinstance(choices, list) or not choices:
        return data
    for choice in choices:
        delta = choice.get("delta") or {}
        has_content = bool(delta.get("content") or delta.get("refusal") or choice.get("text"))
        choice["content_filter_results"] = _choice_filter(
            choice.get("finish_reason"), has_content=has_content
        )
    return sse.data(payload, le)


class _AzureReader:
    """An Azure stream read back (recording): Azure's own chunks (the prompt filter's,
    content-filter annotations) are not steps; the rest is OpenAI's."""

    def __init__(self, inner: WireReader) -> None:
        self.inner = inner

    def frame(self, frame: Frame) -> None:
        payload = json_object(frame.data)
        if payload is not None and "prompt_filter_results" in payload and not payload.get("choices"):
            return  # the prompt filter's chunk: Azure makes it, not the script
        self.inner.frame(frame)

    def body(self, body: Any) -> None:
        self.inner.body(body)

    def ending(self) -> Ending:
        return self.inner.ending()
