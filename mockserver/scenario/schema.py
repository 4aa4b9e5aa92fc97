"""The JSON Schema of the scenario language, for editors (the YAML language server).

Made from the same key lists and word lists the loader checks against, so the two
cannot drift apart; the loader still says more (lines, did-you-mean, cross-checks
such as split pieces that must join to the text).
"""

from __future__ import annotations

from typing import Any

from .model import FAKE_KINDS, FINISH_REASONS
from .parse import (
    BODY_RULES,
    LINE_ENDINGS,
    MATCH_KEYS,
    RESPONSE_KEYS,
    SCENARIO_KEYS,
    THEN,
    TIMING_KEYS,
    TOOL_RESULT_KEYS,
    TRANSPORT_KEYS,
    TURN_KEYS,
    WRITE_SIZE_KEYS,
)
from .steps import (
    BARE_STEPS,
    ERROR_KEYS,
    EVENT_KEYS,
    FUNCTION_CALL_KEYS,
    STALL_KEYS,
    STEP_KINDS,
    STEP_OPTIONS,
    TOOL_CALL_KEYS,
    USAGE_KEYS,
)

SCHEMA_ID = "urn:mockserver:scenario"

DURATION = {
    "description": "250ms, 1.5s, 2m, or a number of seconds",
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d*)?|\.\d+)\s*(ms|s|m)?\s*$"},
    ],
}
TEXT = {
    "type": ["string", "number"],
    "description": "may use {{ request.model }}, {{ request.last_message }}, {{ request.headers.NAME }}",
}
SPLIT = {
    "description": "words, chars, N characters per piece, or the pieces themselves",
    "anyOf": [
        {"enum": ["words", "chars"]},
        {"type": "integer", "minimum": 1},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ],
}
ARGUMENT_SPLIT = {
    "anyOf": [
        *SPLIT["anyOf"],
        {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
    ]
}
PIECES = {"type": "integer", "minimum": 1}


def _object(properties: dict[str, Any], keys: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    assert set(properties) == set(keys), (sorted(properties), sorted(keys))
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


ERROR = {
    "anyOf": [
        {"type": "string"},
        _object(
            {
                "message": TEXT,
                "type": {"type": "string"},
                "code": {"type": ["string", "integer", "null"]},
                "param": {"type": ["string", "null"]},
            },
            ERROR_KEYS,
        ),
    ]
}


def _tool_call(keys: tuple[str, ...]) -> dict[str, Any]:
    properties = {
        "name": TEXT,
        "arguments": {
            "anyOf": [{"type": "object"}, {"type": "string"}],
            "description": "a mapping (sent as JSON), a string (as is), or `fake`",
        },
        "id": {"type": ["string", "number"]},
        "index": {"type": "integer", "minimum": 0, "maximum": 127},
        "pieces": PIECES,
        "split": ARGUMENT_SPLIT,
    }
    return _object({k: properties[k] for k in keys}, keys)


def _step_values() -> dict[str, Any]:
    count = {"type": ["integer", "string"]}
    bare = {"anyOf": [{"type": "null"}, {"const": True}, {"type": "object", "maxProperties": 0}]}
    return {
        "text": TEXT,
        "reasoning": TEXT,
        "refusal": TEXT,
        "fake": {"enum": list(FAKE_KINDS)},
        "tool_call": _tool_call(TOOL_CALL_KEYS),
        "function_call": _tool_call(FUNCTION_CALL_KEYS),
        "finish": {"enum": list(FINISH_REASONS)},
        "usage": {"anyOf": [{"const": "auto"}, _object({"input": count, "output": count}, USAGE_KEYS)]},
        "error": ERROR,
        "event": _object(
            {
                "data": {"type": ["string", "number", "object", "array", "null"]},
                "event": {"type": "string"},
                "id": {"type": ["string", "number"]},
                "retry": {"type": "integer", "minimum": 0},
            },
            EVENT_KEYS,
        ),
        "comment": {"type": ["string", "number"]},
        "raw": TEXT,
        "wait": DURATION,
        **{kind: bare for kind in BARE_STEPS},
        "stall": {"anyOf": [bare, DURATION, _object({"for": DURATION}, STALL_KEYS)]},
    }


def _steps() -> dict[str, Any]:
    values = _step_values()
    assert set(values) == set(STEP_KINDS)
    options = {
        "split": SPLIT,
        "pieces": PIECES,
        "delay": DURATION,
        "count": {"type": "integer", "minimum": 1},
    }
    variants: list[dict[str, Any]] = [{"enum": list(BARE_STEPS)}]
    for kind in STEP_KINDS:
        allowed = (kind, *STEP_OPTIONS.get(kind, ("delay",)))
        properties = {kind: values[kind], **{k: options[k] for k in allowed if k != kind}}
        variants.append(_object(properties, allowed, required=[kind]))
    return {"type": "array", "items": {"anyOf": variants}}


def _response_properties() -> dict[str, Any]:
    return {
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "headers": {"type": "object", "additionalProperties": TEXT},
        "body": {"type": ["object", "array", "string", "number"]},
        "error": ERROR,
        "stream": _steps(),
        "timing": _object({k: DURATION for k in TIMING_KEYS}, TIMING_KEYS),
        "split": SPLIT,
        "model": TEXT,
        "id": {"type": ["string", "number"]},
        "created": {"type": "integer", "minimum": 0},
        "done": {"type": "boolean"},
        "transport": _object(
            {
                "line_ending": {"enum": list(LINE_ENDINGS)},
                "write_size": {
                    "anyOf": [
                        PIECES,
                        _object({"min": PIECES, "max": PIECES}, WRITE_SIZE_KEYS),
                    ]
                },
                "headers_delay": DURATION,
            },
            TRANSPORT_KEYS,
        ),
    }


def _match() -> dict[str, Any]:
    rule = {
        "anyOf": [
            {
                "type": "object",
                "properties": {k: {} for k in BODY_RULES},
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
            },
            {},
        ]
    }
    return _object(
        {
            "method": {"type": "string"},
            "path": {"type": "string", "description": "a glob"},
            "headers": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
            "model": {"type": "string", "description": "a glob"},
            "body": {"type": "object", "additionalProperties": rule},
            "text": {"type": ["string", "number"], "description": "a regular expression"},
            "tools": {"type": "string"},
            "stream": {"type": "boolean"},
            "priority": {"type": "integer"},
            "turn": {"type": "integer", "minimum": 1},
            "tool_result": _object(
                {
                    "name": {"type": ["string", "number"]},
                    "id": {"type": ["string", "number"]},
                    "contains": {"type": ["string", "number"]},
                    "regex": {"type": ["string", "number"], "description": "a regular expression"},
                },
                TOOL_RESULT_KEYS,
            ),
            "system": {"type": ["string", "number"], "description": "a regular expression"},
            "first_message": {"type": ["string", "number"], "description": "a regular expression"},
        },
        MATCH_KEYS,
    )


def json_schema() -> dict[str, Any]:
    response = _response_properties()
    assert set(response) == set(RESPONSE_KEYS)
    scenario_only = {
        "name": {"type": ["string", "number"], "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$"},
        "description": {"type": "string"},
        "match": _match(),
        "seed": {"type": "integer"},
        "responses": {"type": "array", "minItems": 1, "items": _object(response, RESPONSE_KEYS)},
        "then": {"enum": list(THEN)},
        "chaos": {"type": "boolean"},
        "conversation": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "match": _match(),
                    "responses": {"type": "array", "minItems": 1, "items": _object(response, RESPONSE_KEYS)},
                    **response,
                },
                TURN_KEYS + RESPONSE_KEYS,
            ),
        },
    }
    assert set(scenario_only) == set(SCENARIO_KEYS)
    scenario = _object({**scenario_only, **response}, SCENARIO_KEYS + RESPONSE_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mockserver scenario",
        "anyOf": [
            scenario,
            _object(
                {"scenarios": {"type": "array", "items": scenario}}, ("scenarios",), required=["scenarios"]
            ),
        ],
    }
