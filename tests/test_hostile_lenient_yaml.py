"""Scenario YAML is read strictly: what would load and then fail on every request
(a date, binary data, an unknown tag) is refused at load with file and line, and a
name that would split the log line is refused too."""

from __future__ import annotations

import pytest

from mockserver import ScenarioErrors
from mockserver.scenario import load_text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "stream: [{text: x}]\nbody: {created: 2024-01-01}\nstatus: 200\n",
            "s.yaml:2: a date or time is not a JSON value",
        ),
        ("stream:\n  - event: {data: !!binary aGk=}\n", "s.yaml:2: binary data is not a JSON value"),
        ("stream:\n  - tool_call: {name: f, arguments: {when: 2024-01-01T10:00:00}}\n", "a date or time"),
        ("stream: !!set {a, b}\n", "s.yaml:1: unknown YAML tag '!!set'"),
        ("stream: !custom [{text: x}]\n", "s.yaml:1: unknown YAML tag '!custom'"),
        ('name: "two\\nlines"\nstream: [{text: x}]\n', "s.yaml:1: name: 'two\\nlines' is not a usable name"),
    ],
)
def test_yaml_that_would_fail_every_request_is_refused_at_load(text: str, says: str) -> None:
    with pytest.raises(ScenarioErrors) as caught:
        load_text(text, "s.yaml")
    assert says in "\n".join(e.format() for e in caught.value.errors)
