"""OpenAI legacy Completions: `POST /v1/completions`.

`text_completion` chunks with `choices[0].text`, a last chunk carrying the
finish reason, a usage chunk when asked for, then `[DONE]`. Only text has a form
here: tool calls, reasoning and refusals are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from . import sse
from .api import Rendering
from .data_stream import DataStream, DataStreamReader
from .openai_request import OpenAIErrors, check_stream, invalid_type, require_model
from .plan import TimedEvent
from .reading import Frame, StepSink, WireReader
from .request import ApiRequest, BadRequest
from .script import Delta, ToolArgs, ToolStart, UsageItem

_REASONS = {"tool_calls": "stop", "function_call": "stop"}  # the words this API has


class CompletionsApi(OpenAIErrors):
    name = "completions"
    routes = ("/v1/completions",)
    unsupported = frozenset({"reasoning", "refusal", "tool_call", "function_call"})  # text only

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {"model": model, "prompt": message, "stream": stream}

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", None, "invalid_type")
        model = require_model(body)
        if "prompt" not in body:
            raise BadRequest("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        prompt = body["prompt"]
        if isinstance(prompt, str):
            texts = [prompt]
        elif isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
            texts = list(prompt)
        elif isinstance(prompt, list) and all(isinstance(p, int) for p in prompt):
            texts = [" ".join("t" for _ in prompt)]  # token ids: count them as words
        else:
            raise invalid_type("prompt", "a string or an array of strings", prompt)
        options = body.get("stream_options")
        return replace(
            request,
            model=model,
            stream=check_stream(body),
            last_message=texts[-1] if texts else "",
            include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
            input_words=len(" ".join(texts).split()),
        )

    def stream(self, rendering: Rendering) -> Iterable[TimedEvent]:
        return _CompletionsStream(rendering).events()

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return _CompletionsReader(steps)

    def body(self, rendering: Rendering) -> Any:
        reply = rendering.script.reply
        payload = _head(rendering)
        payload["choices"] = [
            {"text": reply.text, "index": 0, "logprobs": None, "finish_reason": _reason(reply.finish_reason)}
        ]
        payload["usage"] = _usage(reply.usage)
        return payload


def _reason(reason: str) -> str:
    return _REASONS.get(reason, reason)


def _head(rendering: Rendering) -> dict[str, Any]:
    script = rendering.script
    return {
        "id": rendering.response.id or f"cmpl-{script.identity.token}",
        "object": "text_completion",
        "created": rendering.response.created or script.identity.created,
        "model": script.model,
        "system_fingerprint": script.identity.fingerprint,
    }


def _usage(usage: UsageItem) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
    }


class _CompletionsStream(DataStream):
    def __init__(self, rendering: Rendering) -> None:
        super().__init__(rendering, _head(rendering))
        self.text_prefix = "data: " + sse.to_json(self.head)[:-1] + ',"choices":[{"text":'
        self.text_suffix = ',"index":0,"logprobs":null,"finish_reason":null}]}' + self.le + self.le

    def chunk(self, at: float, text: str, finish: str | None = None) -> None:
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
        self.payload(at, {**self.head, "choices": [choice]})

    def content(self, at: float, item: Delta | ToolStart | ToolArgs) -> None:
        if isinstance(item, Delta) and item.channel == "text":
            self.chunk(at, item.text)

    def finish_chunk(self, at: float, reason: str) -> None:
        self.chunk(at, "", _reason(reason))

    def usage_payload(self, usage: UsageItem) -> dict[str, Any]:
        return _usage(usage)


class _CompletionsReader(DataStreamReader):
    """A recorded Completions stream or body, back into steps (recording)."""

    def choice(self, choice: dict[str, Any]) -> None:
        text = choice.get("text")
        if isinstance(text, str) and text:
            self.steps.text("text", text)

    def body(self, body: Any) -> None:
        if isinstance(body, dict):
            self.frame(Frame(data=sse.to_json(body)))  # a body is one chunk with everything
