"""OpenAI embeddings: `POST /v1/embeddings` (wire-formats.md §6). Never streamed:
the vectors are made from the input text and the seed, unit length, as floats or
as base64 packed little-endian float32 (what the SDK asks for by default)."""

from __future__ import annotations

import base64
import math
import random
import struct
from dataclasses import replace
from typing import Any

from .api import Rendering
from .openai_request import OpenAIErrors, invalid_type, require_model
from .plan import TimedEvent
from .request import ApiRequest, BadRequest

DIMENSIONS = {"text-embedding-3-large": 3072}  # every other model: 1536
DEFAULT_DIMENSIONS = 1536


class EmbeddingsApi(OpenAIErrors):
    name = "embeddings"

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", None, "invalid_type")
        model = require_model(body)
        inputs = inputs_of(body)
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise BadRequest(
                f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'.",
                "encoding_format",
                "invalid_value",
            )
        dimensions = body.get("dimensions")
        if dimensions is not None and (
            isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= 3072
        ):
            raise BadRequest("Invalid 'dimensions': expected an integer from 1 to 3072.", "dimensions", None)
        return replace(
            request,
            model=model,
            stream=False,
            last_message=inputs[-1],
            input_words=sum(len(text.split()) for text in inputs),
        )

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        return []  # embeddings are never streamed: parse() sets stream False

    def body(self, rendering: Rendering) -> Any:
        request = rendering.request
        body = request.json
        inputs = inputs_of(body)
        size = body.get("dimensions") or DIMENSIONS.get(request.model, DEFAULT_DIMENSIONS)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(inputs):
            vector = embedding(text, rendering.script.seed, request.model, size)
            encoded: Any = (
                base64.b64encode(struct.pack(f"<{size}f", *vector)).decode("ascii") if as_base64 else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = rendering.script.reply.usage.input
        return {
            "object": "list",
            "data": data,
            "model": rendering.script.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def inputs_of(body: dict[str, Any]) -> list[str]:
    """The texts to embed: a string, strings, or token ids (one text per list of ids)."""
    if "input" not in body:
        raise BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    raw = body["input"]
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(item, str) for item in raw):
            return list(raw)
        if all(isinstance(item, int) and not isinstance(item, bool) for item in raw):
            return [" ".join(map(str, raw))]
        if all(isinstance(item, list) and all(isinstance(t, int) for t in item) for item in raw):
            return [" ".join(map(str, item)) for item in raw]
    raise invalid_type("input", "a string, an array of strings or an array of token arrays", raw)


def embedding(text: str, seed: int, model: str, size: int) -> list[float]:
    """A unit vector that depends only on the text, the seed and the model."""
    rng = random.Random(f"{seed}/{model}/{text}")
    vector = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    # rounded to float32 precision, so float and base64 replies carry the same numbers
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in vector]
