"""Legacy Completions, the model list and embeddings, through the real openai SDK."""

from __future__ import annotations

import base64
import math
import struct

import anthropic
import openai
import pytest
from openai import OpenAI

from helpers import ServeFactory, closing
from mockserver import MockServer

SCENARIOS = """
scenarios:
  - name: poem
    model: gpt-3.5-turbo-instruct
    split: words
    stream:
      - text: "Roses are red."
      - tool_call: {name: skipped, arguments: {}}
      - finish: length
  - name: named-models
    match: {model: my-fine-tune}
    model: custom-model-1
    stream: [{text: x}]
  - name: embed-down
    status: 503
"""


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(SCENARIOS, time_scale=0, seed=4)


def client(server: MockServer, name: str | None = None) -> OpenAI:
    base = server.url_for(name) + "/v1" if name else server.openai_url
    return closing(OpenAI(base_url=base, api_key="k", max_retries=0))


def test_completions_stream(server: MockServer) -> None:
    chunks = list(
        client(server, "poem").completions.create(
            model="gpt-3.5-turbo-instruct",
            prompt="Write",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    texts = [c.choices[0].text for c in chunks if c.choices]
    assert "".join(texts) == "Roses are red." and texts[:3] == ["Roses", " are", " red."]
    assert chunks[-2].choices[0].finish_reason == "length"
    # 3 words, plus 1 for the tool call: usage counts the whole scenario, on any API
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert {c.object for c in chunks} == {"text_completion"}


def test_completions_non_stream(server: MockServer) -> None:
    reply = client(server, "poem").completions.create(model="x", prompt=["a", "b"])
    assert reply.choices[0].text == "Roses are red." and reply.choices[0].finish_reason == "length"
    assert reply.model == "gpt-3.5-turbo-instruct" and reply.usage.prompt_tokens == 2


def test_completions_need_a_prompt(server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError, match="prompt"):
        client(server).completions.create(model="x", prompt=None)  # type: ignore[arg-type]


def test_models_list_and_retrieve(server: MockServer) -> None:
    ids = [m.id for m in client(server).models.list()]
    assert {"gpt-4o-mini", "gpt-3.5-turbo-instruct", "my-fine-tune", "custom-model-1"} <= set(ids)
    assert client(server).models.retrieve("custom-model-1").owned_by == "openai"
    with pytest.raises(openai.NotFoundError):
        client(server).models.retrieve("no-such-model")


def test_models_for_an_anthropic_client(server: MockServer) -> None:
    with anthropic.Anthropic(base_url=server.url, api_key="k") as claude:
        ids = [m.id for m in claude.models.list()]
    assert "claude-sonnet-4-6" in ids and "gpt-4o" in ids


def unit(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def test_embeddings_default_base64_and_float_agree(server: MockServer) -> None:
    sdk = client(server).embeddings.create(model="text-embedding-3-small", input=["hello", "world"])
    assert [len(d.embedding) for d in sdk.data] == [1536, 1536]  # decoded from base64 by the SDK
    floats = client(server).embeddings.create(
        model="text-embedding-3-small", input=["hello", "world"], encoding_format="float"
    )
    assert sdk.data[0].embedding == floats.data[0].embedding
    assert sdk.data[0].embedding != sdk.data[1].embedding
    assert abs(unit(floats.data[0].embedding) - 1) < 1e-5
    assert floats.usage.prompt_tokens == 2


def test_embeddings_raw_base64_is_little_endian_float32(server: MockServer) -> None:
    import httpx

    body = {"model": "text-embedding-3-large", "input": "hi", "encoding_format": "base64"}
    data = httpx.post(server.openai_url + "/embeddings", json=body).json()["data"][0]["embedding"]
    values = struct.unpack("<3072f", base64.b64decode(data))
    assert abs(unit(list(values)) - 1) < 1e-4


def test_embeddings_dimensions_and_determinism(server: MockServer, serve: ServeFactory) -> None:
    first = client(server).embeddings.create(model="m", input="same", dimensions=8, encoding_format="float")
    again = client(server).embeddings.create(model="m", input="same", dimensions=8, encoding_format="float")
    other_seed = client(serve(SCENARIOS, seed=5)).embeddings.create(
        model="m", input="same", dimensions=8, encoding_format="float"
    )
    assert len(first.data[0].embedding) == 8
    assert first.data[0].embedding == again.data[0].embedding != other_seed.data[0].embedding


def test_embeddings_errors(server: MockServer) -> None:
    with pytest.raises(openai.InternalServerError):
        client(server, "embed-down").embeddings.create(model="m", input="x")
    with pytest.raises(openai.BadRequestError, match="input"):
        client(server).embeddings.create(model="m", input=[])
