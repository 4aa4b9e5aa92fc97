"""The plan cache gives every request exactly the bytes a fresh rendering would."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mockserver.render import APIS, ApiRequest, plan_response
from mockserver.render.api import sample
from mockserver.render.request import Tool
from mockserver.scenario import load_text
from mockserver.server.plans import PlanCache

SCENARIOS = load_text(
    """
scenarios:
  - name: text
    timing: {first: 10ms, interval: 5ms}
    split: words
    stream:
      - text: "Hello {{ request.model }} from {{ request.headers.x-team }}"
      - usage: auto
  - name: everything
    stream:
      - reasoning: "Thinking it over."
      - text: "Here: "
      - tool_call: {name: a, arguments: {x: 1}, pieces: 3}
      - tool_call: {name: b, arguments: fake}
      - refusal: "no more"
      - comment: ka
      - event: {event: custom, data: {k: v}}
  - name: fixed-writes
    transport: {write_size: 7, line_ending: crlf}
    stream:
      - text: "cut into seven-byte writes"
  - name: jittered
    timing: {interval: 10ms, jitter: 5ms}
    stream:
      - text: "a b c"
        split: words
  - name: errors
    status: 429
  - name: drop
    stream:
      - text: a
      - disconnect
""",
    "cache.yaml",
)


@pytest.mark.parametrize("api_name", [name for name, api in APIS.items() if api.cacheable])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_cached_plans_equal_fresh_renderings(api_name: str, scenario) -> None:  # type: ignore[no-untyped-def]
    api = APIS[api_name]
    cache = PlanCache()
    for team, stream in (("red", True), ("blue", False), ("green", True)):
        request = sample(api, "gpt-test", "hi", stream=stream, headers={"x-team": team})
        request = _with_tools(request)
        for number in (0, 1, 2, 7):
            for seed in (None, 3):
                fresh = plan_response(
                    api, scenario.responses[0], request, scenario=scenario.name, number=number, seed=seed
                )
                cached = cache.plan(
                    api,
                    scenario.responses[0],
                    request,
                    scenario=scenario.name,
                    number=number,
                    seed=seed,
                    fresh_content=False,
                )
                assert cached == fresh, (api_name, scenario.name, team, number, seed)
    # one rendering per request shape (stream or not, seed, and the header where a
    # template reads it); none where the timing is random
    assert len(cache) == {"jittered": 0, "text": 6}.get(scenario.name, 4)


def _with_tools(request: ApiRequest) -> ApiRequest:
    from dataclasses import replace

    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    return replace(request, tools=(Tool("b", schema),))


def test_the_path_and_query_are_part_of_the_shape() -> None:
    """Ollama's /api/chat and /api/generate, Gemini's SSE and JSON-array streams: the
    same scenario and model, other bytes; a cached plan of one never answers the other."""
    (scenario,) = load_text("stream: [{text: hello}]", "<t>")
    cache = PlanCache()
    ollama, gemini = APIS["ollama"], APIS["gemini"]
    chat = ollama.parse(
        {"model": "m", "messages": [{"role": "user", "content": "x"}]}, ApiRequest("ollama", path="/api/chat")
    )
    generate = ollama.parse({"model": "m", "prompt": "x"}, ApiRequest("ollama", path="/api/generate"))
    sse = sample(gemini, "g", "x", stream=True)
    array = replace(sse, query={})
    for api, one, other in ((ollama, chat, generate), (gemini, sse, array)):
        first, second = (
            cache.plan(
                api, scenario.responses[0], request, scenario="s", number=1, seed=None, fresh_content=False
            )
            for request in (one, other)
        )
        assert first.body != second.body


def test_skipped_steps_are_found_once_per_response(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked of every request, the steps an API leaves out are walked for once per
    response, and found again after a reset (clear)."""
    import mockserver.server.plans as plans

    walked: list[str] = []
    real = plans.skipped_steps

    def counting(api, response):  # type: ignore[no-untyped-def]
        walked.append(api.name)
        return real(api, response)

    monkeypatch.setattr(plans, "skipped_steps", counting)
    cache = PlanCache()
    response = next(s for s in SCENARIOS if s.name == "everything").responses[0]
    for _ in range(3):
        assert cache.skipped(APIS["chat"], response) == ["reasoning"]  # Chat has no channel for it
        assert cache.skipped(APIS["anthropic"], response) == []
    assert walked == ["chat", "anthropic"]
    cache.clear()
    assert cache.skipped(APIS["chat"], response) == ["reasoning"]
    assert walked == ["chat", "anthropic", "chat"]
