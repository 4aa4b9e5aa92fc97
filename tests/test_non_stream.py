"""A request without stream=true gets the chat.completion the stream adds up to."""

from __future__ import annotations

import json
import time

import httpx

from helpers import MESSAGES, ServeFactory, openai_client

SCENARIOS = """
scenarios:
  - name: full
    model: gpt-4o-2024-08-06
    id: chatcmpl-fixed
    created: 1700000123
    stream:
      - text: "Hello "
      - text: "there."
      - tool_call: {name: f, id: call_1, arguments: {x: 1}}
      - usage: {input: 9, output: 4}
  - name: slow
    timing: {first: 200ms, interval: 100ms}
    stream:
      - text: a
      - text: b
  - name: fixed-body
    status: 202
    body: {hello: "{{ request.model }}"}
  - name: text-body
    status: 502
    headers: {content-type: text/html}
    body: "<html>Bad Gateway</html>"
"""


def test_accumulated_completion(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0)
    reply = openai_client(server, "full").chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert reply.id == "chatcmpl-fixed" and reply.created == 1700000123
    assert reply.object == "chat.completion" and reply.model == "gpt-4o-2024-08-06"
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == "Hello there."
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("call_1", "f", {"x": 1})
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (9, 4, 13)
    assert reply._request_id.startswith("req_")


def test_the_body_comes_when_the_stream_would_end(serve: ServeFactory) -> None:
    server = serve(SCENARIOS)
    started = time.monotonic()
    reply = openai_client(server, "slow").chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "ab"
    assert 0.25 < time.monotonic() - started < 1.5  # 200 ms + 100 ms


def test_fixed_bodies(serve: ServeFactory) -> None:
    server = serve(SCENARIOS, time_scale=0)
    body = {"model": "m", "messages": MESSAGES}
    fixed = httpx.post(server.url_for("fixed-body") + "/v1/chat/completions", json=body)
    assert fixed.status_code == 202 and fixed.json() == {"hello": "m"}
    text = httpx.post(server.url_for("text-body") + "/v1/chat/completions", json=body)
    assert text.status_code == 502 and text.text == "<html>Bad Gateway</html>"
    assert text.headers["content-type"] == "text/html"
