"""OpenAI embeddings: `POST /v1/embeddings`. Never streamed:
the vectors are made from the input text and the seed, unit length, as floats or
as base64 packed little-endian float32 (what the SDK asks for by default)."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from dataclasses import replace
from functools import lru_cache
from typing import Any, NamedTuple

from . import sse
from .api import Rendering
from .openai_request import OpenAIErrors, invalid_type, require_model
from .plan import TimedEvent
from .request import ApiRequest, BadRequest

DIMENSIONS = {"text-embedding-3-large": 3072}  # every other model: 1536
DEFAULT_DIMENSIONS = 1536


# The real API's limits, with its 400s: anything past them is refused before any work.
MAX_INPUTS = 2048  # texts in one request
MAX_INPUT_TOKENS = 8192  # tokens in one text
MAX_REQUEST_TOKENS = 300_000  # tokens in the whole request
_BLOCKS = 32  # a vector is cut into this many blocks, each kept or negated per text


class EmbeddingsApi(OpenAIErrors):
    name = "embeddings"
    routes = ("/v1/embeddings",)
    cacheable = False  # its bytes are the input's, not the request shape's
    heavy = True  # 2,048 inputs at 3,072 dimensions: 130 MB

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {"model": model, "input": message, "encoding_format": "float", "dimensions": 8}

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
        counts = [token_count(text) for text in inputs]
        longest = max(counts)
        if longest > MAX_INPUT_TOKENS:
            raise BadRequest(
                f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you "
                f"requested {longest} tokens ({longest} in your prompt; 0 for the completion). "
                "Please reduce your prompt; or completion length.",
                None,
                None,
            )
        if sum(counts) > MAX_REQUEST_TOKENS:
            raise BadRequest(
                f"Requested {sum(counts)} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
                None,
                "max_tokens_per_request",
            )
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
        seed = rendering.script.seed
        base = _base(seed, request.model, size)
        # Grown piece by piece: the reply can be 130 MB, and one whole copy of it (a
        # join, an encode) holds the interpreter, and so every stream, for a while.
        out = sse.RawJson()
        out.data += b'{"object":"list","data":['
        for index, text in enumerate(inputs):
            out.data += b'%s{"object":"embedding","index":%d,"embedding":' % (b"," if index else b"", index)
            if as_base64:
                packed = struct.pack(f"<{size}f", *_pieces(text, seed, request.model, size, base.values))
                out.data += b'"' + base64.b64encode(packed) + b'"}'
            else:  # spelled from the numbers' cached text: formatting floats is most of the cost
                out.data += b"[" + b",".join(_pieces(text, seed, request.model, size, base.spelled)) + b"]}"
        tokens = rendering.script.reply.usage.input
        model = sse.json_string(rendering.script.model).encode("ascii")
        out.data += b'],"model":%s,"usage":{"prompt_tokens":%d,"total_tokens":%d}}' % (model, tokens, tokens)
        return out


def token_count(text: str) -> int:
    """Tokens in `text`, roughly as a tokenizer counts English: a word or four characters."""
    return max(len(text.split()), (len(text) + 3) // 4)


def inputs_of(body: dict[str, Any]) -> list[str]:
    """The texts to embed: a string, strings, or token ids (one text per list of ids)."""
    if "input" not in body:
        raise BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    raw = body["input"]
    if isinstance(raw, list) and len(raw) > MAX_INPUTS:
        raise BadRequest(
            "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
            None,
            None,
        )
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


class _Base(NamedTuple):
    """A seed and model's unit vector, each item and its negation side by side, as
    numbers and as JSON text: every text's vector is made from it."""

    values: tuple[tuple[float, ...], tuple[float, ...]]
    spelled: tuple[tuple[bytes, ...], tuple[bytes, ...]]


@lru_cache(maxsize=8)
def _base(seed: int, model: str, size: int) -> _Base:
    """The base vector, rounded to float32 (so float and base64 replies carry the
    same numbers), computed and spelled once."""
    rng = random.Random(f"{seed}/{model}/{size}")
    vector = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    values = struct.unpack(f"<{size}f", struct.pack(f"<{size}f", *(v / norm for v in vector)))
    negated = tuple(-v for v in values)
    return _Base(
        (values, negated),
        (tuple(repr(v).encode() for v in values), tuple(repr(v).encode() for v in negated)),
    )


def _layout(text: str, seed: int, model: str, size: int) -> tuple[int, int]:
    """Where the text's vector starts in the base vector, and which blocks it negates."""
    digest = hashlib.blake2b(
        f"{seed}/{model}/{text}".encode("utf-8", "surrogatepass"), digest_size=12
    ).digest()
    return int.from_bytes(digest[:8], "little") % size, int.from_bytes(digest[8:], "little")


def _pieces(
    text: str, seed: int, model: str, size: int, items: tuple[tuple[Any, ...], tuple[Any, ...]]
) -> list[Any]:
    """The base vector, rotated, with some blocks negated, chosen by the text: unit
    length, the same for the same text, all but unrelated for two texts."""
    shift, signs = _layout(text, seed, model, size)
    plus, minus = items
    out: list[Any] = []
    for block in range(_BLOCKS):
        begin, end = block * size // _BLOCKS, (block + 1) * size // _BLOCKS
        source = minus if signs >> block & 1 else plus
        first, last = (begin + shift) % size, (end + shift) % size
        if begin == end:
            continue
        if first < last or end - begin == size:
            out.extend(source[first : first + end - begin])
        else:
            out.extend(source[first:])
            out.extend(source[:last])
    return out


def embedding(text: str, seed: int, model: str, size: int) -> list[float]:
    """A unit vector that depends only on the text, the seed and the model."""
    return _pieces(text, seed, model, size, _base(seed, model, size).values)
