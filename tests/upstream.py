"""A local stand-in for the real APIs, for the recording tests: it answers with
streams spelled byte for byte as OpenAI, Anthropic and Ollama spell theirs (ids,
fields, event names, usage), written in the pieces and with the pauses a test asks
for, with odd framing on request (CRLF, comments, a character split across two
writes, `data:` over several lines), and failures (a drop, a reset, a 429).

A test picks the answer with the request's first user message (`tell me a story`,
`weather in Paris`, ...) and sees what the upstream received in `Upstream.seen`."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from mockserver.runner import BackgroundServer

CHAT_ID = "chatcmpl-CV8zR2xq0Upstream"
CREATED = 1_764_500_000
MODEL_SNAPSHOT = "gpt-4o-mini-2024-07-18"
GAP = 0.4  # the pause in the `slow` stream


def sse(data: Any, event: str | None = None, le: str = "\n") -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}{le}" if event else ""
    return f"{head}data: {text}{le}{le}".encode()


def chat_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": CHAT_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL_SNAPSHOT,
        "service_tier": "default",
        "system_fingerprint": "fp_560af6e559",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
        "obfuscation": "xY3k",
        **extra,
    }


def chat_usage(prompt: int, completion: int) -> dict[str, Any]:
    chunk = chat_chunk({})
    chunk["choices"] = []
    chunk["usage"] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    return chunk


Writes = list[tuple[float, bytes]]  # (pause before, bytes): each one write


def chat_text(pieces: list[str], *, gaps: list[float] | None = None, le: str = "\n") -> Writes:
    """A Chat stream of `pieces`, each its own write, `gaps[i]` before piece i."""
    gaps = gaps or [0.0] * len(pieces)
    writes: Writes = [(0.0, sse(chat_chunk({"role": "assistant", "content": "", "refusal": None}), le=le))]
    for gap, piece in zip(gaps, pieces, strict=True):
        writes.append((gap, sse(chat_chunk({"content": piece}), le=le)))
    writes.append((0.01, sse(chat_chunk({}, "stop"), le=le)))
    writes.append((0.0, sse(chat_usage(12, len(pieces)), le=le)))
    writes.append((0.0, f"data: [DONE]{le}{le}".encode()))
    return writes


def chat_tool_call(name: str, fragments: list[str], call_id: str = "call_Upstream1a2b3c") -> Writes:
    first = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        ],
        "refusal": None,
    }
    writes: Writes = [(0.0, sse(chat_chunk(first)))]
    for fragment in fragments:
        delta = {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}
        writes.append((0.02, sse(chat_chunk(delta))))
    writes.append((0.01, sse(chat_chunk({}, "tool_calls"))))
    writes.append((0.0, sse(chat_usage(40, 18))))
    writes.append((0.0, b"data: [DONE]\n\n"))
    return writes


def anthropic_text(pieces: list[str]) -> Writes:
    message = {
        "id": "msg_01UpstreamAnthropic",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 21,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
        },
    }
    writes: Writes = [(0.0, sse({"type": "message_start", "message": message}, "message_start"))]
    start = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    writes.append((0.0, sse(start, "content_block_start")))
    writes.append((0.0, sse({"type": "ping"}, "ping")))
    for piece in pieces:
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        writes.append((0.02, sse(delta, "content_block_delta")))
    writes.append((0.0, sse({"type": "content_block_stop", "index": 0}, "content_block_stop")))
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": len(pieces)},
    }
    writes.append((0.0, sse(end, "message_delta")))
    writes.append((0.0, sse({"type": "message_stop"}, "message_stop")))
    return writes


def anthropic_tool_use(name: str, fragments: list[str]) -> Writes:
    writes = anthropic_text([])[:1]
    start = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "tool_use", "id": "toolu_01Upstream", "name": name, "input": {}},
    }
    writes.append((0.0, sse(start, "content_block_start")))
    writes.append((0.0, sse({"type": "ping"}, "ping")))
    for fragment in ["", *fragments]:
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": fragment},
        }
        writes.append((0.02, sse(delta, "content_block_delta")))
    writes.append((0.0, sse({"type": "content_block_stop", "index": 0}, "content_block_stop")))
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"output_tokens": 30},
    }
    writes.append((0.0, sse(end, "message_delta")))
    writes.append((0.0, sse({"type": "message_stop"}, "message_stop")))
    return writes


def odd_framing() -> Writes:
    """CRLF line endings, a comment and a ping comment, `é` split across two writes,
    and a chunk whose JSON runs over three `data:` lines."""
    writes = chat_text(["Caf", "é au lait", " ready"], le="\r\n")
    role, cafe, split_me, _plain_ready, *rest = writes
    encoded = split_me[1]
    cut = encoded.index("é".encode()) + 1  # inside the two bytes of é
    multi = json.dumps(chat_chunk({"content": " ready"}), indent=1).replace("\n", "\r\ndata: ")
    return [
        (0.0, b": connected\r\n\r\n"),
        role,
        cafe,
        (0.02, encoded[:cut]),
        (0.05, encoded[cut:]),
        (0.02, b": ping\r\n\r\n"),
        (0.02, f"data: {multi}\r\n\r\n".encode()),
        *rest,
    ]


def many_events(count: int, size: int) -> Writes:
    piece = "x" * size
    return chat_text([piece] * count)[:-3] + chat_text([])[-3:]


@dataclass
class Upstream:
    """The stand-in, serving on 127.0.0.1; `seen` has each request's path, headers and body."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    events: int = 20_000  # how many events the `many events` stream has
    event_size: int = 200
    server: BackgroundServer | None = None

    def start(self) -> Upstream:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.answer)
        self.server = BackgroundServer(app).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.seen.append(
            {
                "path": request.path,
                "query": request.query_string,
                "headers": dict(request.headers),
                "body": body,
            }
        )
        prompt = _first_user_text(body)
        tool_result = _has_tool_result(body)
        path = request.path
        if "rate limit" in prompt:
            error = {
                "error": {
                    "message": "Rate limit reached for gpt-4o-mini",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            }
            headers = {
                "retry-after": "7",
                "x-ratelimit-remaining-requests": "0",
                "x-request-id": "req_upstream429",
                "set-cookie": "session=SECRET-COOKIE",
            }
            return web.json_response(error, status=429, headers=headers)
        if not body.get("stream"):
            return web.json_response(_whole_chat(prompt), headers={"x-request-id": "req_upstreamwhole"})
        if path == "/v1/messages":
            if "weather" in prompt and not tool_result:
                writes = anthropic_tool_use("get_weather", ['{"city": ', '"Paris"}'])
            else:
                writes = anthropic_text(["Hello", " from", " Claude"])
        elif "weather" in prompt:
            if tool_result:
                writes = chat_text(["It is", " sunny", " in Paris."])
            else:
                writes = chat_tool_call("get_weather", ['{"ci', 'ty": "Pa', 'ris"}'])
        elif "slow" in prompt:
            writes = chat_text(["First", " after a pause", "."], gaps=[0.0, GAP, 0.01])
        elif "odd framing" in prompt:
            writes = odd_framing()
        elif "many events" in prompt:
            writes = many_events(self.events, self.event_size)
        elif "stall" in prompt:
            writes = [*chat_text(["Part", " one"])[:2], (30.0, b"")]  # silent, until the reader leaves
        elif "drop" in prompt or "reset" in prompt:
            writes = chat_text(["Part", " one", " two", " three"])[:3]
        elif "secret" in prompt:
            writes = chat_text(["Your key is sk-", "live-", "Abc123XYZ", " keep it safe."])
        else:
            writes = chat_text(["Once", " upon", " a", " time."])
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "x-request-id": "req_upstream200",
            "openai-organization": "org-SECRET",
            "set-cookie": "__cf_bm=SECRET-COOKIE",
        }
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for gap, data in writes:
            if gap:
                await asyncio.sleep(gap)
            await response.write(data)
        if "drop" in prompt:
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.close()  # FIN, no chunked terminator
            return response
        if "reset" in prompt:
            await asyncio.sleep(0.05)
            assert request.transport is not None
            sock = request.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.transport.abort()
            return response
        await response.write_eof()
        return response


def _whole_chat(prompt: str) -> dict[str, Any]:
    return {
        "id": CHAT_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL_SNAPSHOT,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "A whole answer.",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
        "service_tier": "default",
        "system_fingerprint": "fp_560af6e559",
    }


def _first_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    for message in messages:
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(body.get("prompt") or body.get("input") or "")


def _has_tool_result(body: dict[str, Any]) -> bool:
    for message in body.get("messages") or []:
        if message.get("role") == "tool":
            return True
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(p, dict) and p.get("type") == "tool_result" for p in content
        ):
            return True
    return False
