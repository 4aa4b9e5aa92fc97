"""Every example scenario, rendered on Chat Completions, Responses and legacy
Completions (streamed and not), validates against OpenAI's published OpenAPI
document (its schemas for our output: tests/specs/openai-schemas.json, cut from the
whole by tests/specs/extract_openai.py).

Where the document and the real API differ we follow the API, and the differences
are listed here, each applied to the document before validating:
- `nullable: true` (an OpenAPI 3.0 word left in a 3.1 document) means null is allowed;
- a streamed legacy completion's chunks carry `finish_reason: null` until the last,
  which the document's enum leaves out;
- `response.created` and `response.in_progress` carry the response with `usage: null`
  (it is known only at the end), and so does `response.failed` (none was counted).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver.render import APIS, ApiRequest, plan_response
from mockserver.scenario import load_scenarios

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tests" / "specs" / "openai-schemas.json"
BASE = "urn:openai"


def _allow_null(node: Any) -> Any:
    """`nullable: true` → anyOf [the schema, null], throughout."""
    if isinstance(node, list):
        return [_allow_null(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _allow_null(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def _document() -> dict[str, Any]:
    document = _allow_null(json.loads(SCHEMAS.read_text(encoding="utf-8")))
    schemas = document["components"]["schemas"]
    # the streamed legacy completion: finish_reason is null until the last chunk
    chunk = copy.deepcopy(schemas["CreateCompletionResponse"])
    reason = chunk["properties"]["choices"]["items"]["properties"]["finish_reason"]
    chunk["properties"]["choices"]["items"]["properties"]["finish_reason"] = {
        "anyOf": [reason, {"type": "null"}]
    }
    schemas["StreamedCompletionChunk"] = chunk
    # the response while in progress, or failed: usage is null
    in_progress = copy.deepcopy(schemas["Response"])
    usage = in_progress["allOf"][2]["properties"]["usage"]
    in_progress["allOf"][2]["properties"]["usage"] = {"anyOf": [usage, {"type": "null"}]}
    schemas["ResponseInProgress"] = in_progress
    for event in ("ResponseCreatedEvent", "ResponseInProgressEvent", "ResponseFailedEvent"):
        schemas[event]["properties"]["response"] = {"$ref": "#/components/schemas/ResponseInProgress"}
    return document


@cache
def _validator(name: str) -> Any:
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(BASE, resource)
    schema = {"$ref": f"{BASE}#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


@cache
def _stream_event_schemas() -> dict[str, str]:
    """Responses event type → the name of its schema, from ResponseStreamEvent's members."""
    schemas = _document()["components"]["schemas"]
    found = {}
    for member in schemas["ResponseStreamEvent"]["anyOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        for kind in schemas[name]["properties"]["type"].get("enum", []):
            found[kind] = name
    return found


def _check(name: str, instance: Any, where: str) -> None:
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: {name}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5]
    )


def _events(body: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) for each SSE event of a body."""
    events = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        kind, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            events.append((kind, "\n".join(data)))
    return events


def _renders() -> list[Any]:
    cases = []
    for scenario in load_scenarios([ROOT / "scenarios"]):
        for number in range(len(scenario.responses)):
            for api in ("chat", "responses", "completions"):
                for stream in (True, False):
                    cases.append(
                        pytest.param(
                            scenario,
                            number,
                            api,
                            stream,
                            id=f"{scenario.name}-{number + 1}-{api}-{'stream' if stream else 'body'}",
                        )
                    )
    return cases


@pytest.mark.parametrize(("scenario", "number", "api_name", "stream"), _renders())
def test_output_validates_against_the_openapi_document(
    scenario: Any, number: int, api_name: str, stream: bool
) -> None:
    api = APIS[api_name]
    body = api.sample_request("gpt-4o-mini", "Hello!", stream=stream)
    if api_name == "chat" and stream:
        body["stream_options"] = {"include_usage": True}  # the usage chunk is validated too
    request = api.parse(body, ApiRequest(api_name, json=body))
    plan = plan_response(
        api, scenario.response_for(number), request, scenario=scenario.name, number=number, seed=1
    )
    if plan.status != 200:
        return  # an error body: the error shapes are checked by the error tests
    data = b"".join(w.data for w in plan.writes)
    where = f"{scenario.name} response {number + 1} on {api_name}"
    if not plan.streaming:
        name = {
            "chat": "CreateChatCompletionResponse",
            "responses": "Response",
            "completions": "CreateCompletionResponse",
        }[api_name]
        _check(name, json.loads(data), where)
        return
    for kind, text in _events(data):
        try:
            event = json.loads(text)
        except ValueError:
            continue  # [DONE], or bytes the scenario scripted verbatim (a raw step)
        if api_name == "responses":
            if kind in _stream_event_schemas():  # else an event step of the scenario's own
                _check(_stream_event_schemas()[kind], event, f"{where}, {kind}")
        elif kind is None and "error" not in event:  # not a scripted event; the in-band
            # error has no schema in the document (its shape is the error tests')
            name = "CreateChatCompletionStreamResponse" if api_name == "chat" else "StreamedCompletionChunk"
            _check(name, event, where)
