"""`mockserver schema`: the JSON Schema editors use accepts every example scenario
and rejects what the loader rejects."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from mockserver.cli import main
from mockserver.scenario import scenario_files
from mockserver.scenario.schema import json_schema

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()


@pytest.mark.parametrize("path", scenario_files([SCENARIOS]), ids=lambda p: p.name)
def test_every_example_validates(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        validator.validate(document)


@pytest.mark.parametrize(
    "text",
    [
        "stream: [{text: hi, dealy: 1s}]",
        "stream: [{txt: hi}]",
        "stream: [{finish: stopp}]",
        "stream: [disconect]",
        "timming: {first: 1}",
        "status: 700",
        "transport: {line_ending: crlfx}",
        "stream: [{wait: 3 hours}]",
        "stream: [{tool_call: {name: f, argments: {}}}]",
        "match: {colour: red}",
        "scenarios: [{name: a, stream: [], extra: 1}]",
    ],
)
def test_broken_scenarios_are_rejected(validator: jsonschema.Draft202012Validator, text: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(yaml.safe_load(text))


def test_the_readme_shows_the_language_server_comment() -> None:
    readme = (SCENARIOS.parent / "README.md").read_text()
    assert "# yaml-language-server: $schema=" in readme
