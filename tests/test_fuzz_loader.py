"""Fuzzed scenario loading: whatever the text or structure, the loader answers with
scenarios or with ScenarioErrors that say where — never with anything else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import ScenarioErrors
from mockserver.render import APIS, plan_response
from mockserver.render.api import sample
from mockserver.scenario import load_mapping, load_text
from mockserver.scenario.parse import MATCH_KEYS, RESPONSE_KEYS, SCENARIO_KEYS
from mockserver.scenario.steps import EVENT_KEYS, STEP_KINDS, TOOL_CALL_KEYS

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(load: Any, *args: Any) -> None:
    try:
        loaded = load(*args)
    except ScenarioErrors as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.file
            assert error.line is not None or error.path, error.format()  # it says where
            assert error.message
        return
    for scenario in loaded:  # what loads must also render, on every API
        render_everywhere(scenario)


def render_everywhere(scenario: Any) -> None:
    for api in APIS.values():
        for stream in (True, False):
            request = sample(api, "m", "hi", stream=stream)
            for number, response in enumerate(scenario.responses):
                plan_response(api, response, request, scenario=scenario.name, number=number, seed=1)


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_random_text(text: str) -> None:
    check(load_text, text, "fuzz.yaml")


YAMLISH = st.text(alphabet=":-{}[], \n\t'\"|>!&*#%@`abcxyz0123456789.", max_size=200)


@FUZZ
@given(YAMLISH)
def test_yaml_punctuation(text: str) -> None:
    check(load_text, text, "fuzz.yaml")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["words", "chars", "auto", "fake", "250ms", "1.5s", "-1s", "stop"]),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from([*STEP_KINDS, *TOOL_CALL_KEYS, *EVENT_KEYS, *MATCH_KEYS, "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
steps = st.one_of(
    st.sampled_from(STEP_KINDS),
    st.dictionaries(st.sampled_from([*STEP_KINDS, "delay", "split", "pieces", "count"]), values, max_size=3),
    values,
)
scenarios = st.fixed_dictionaries(
    {},
    optional={
        **{key: values for key in (*SCENARIO_KEYS, *RESPONSE_KEYS)},
        "stream": st.lists(steps, max_size=6),
        "responses": st.lists(
            st.dictionaries(st.sampled_from(RESPONSE_KEYS), values, max_size=4), max_size=3
        ),
        "match": st.dictionaries(st.sampled_from(MATCH_KEYS), values, max_size=4),
    },
)


@FUZZ
@given(scenarios)
def test_structures_in_the_languages_shape(data: dict[str, Any]) -> None:
    check(load_mapping, data, "fuzz.json")
