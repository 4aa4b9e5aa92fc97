"""Finding and loading scenario files; the public entry points of the language."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ScenarioError, ScenarioErrors
from .model import Scenario
from .parse import parse_document
from .source import from_plain, parse_documents

SUFFIXES = (".yaml", ".yml", ".json")
PathLike = str | os.PathLike[str]


def scenario_files(paths: Iterable[PathLike]) -> list[Path]:
    """The scenario files under `paths`, folders searched recursively, in sorted order."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ScenarioErrors([ScenarioError(str(path), None, "", "no such file or folder")])
    return files


def load_text(text: str, file: str, default_name: str | None = None) -> list[Scenario]:
    """Scenarios from YAML (or JSON) text. Raises ScenarioErrors with every problem."""
    stem = default_name if default_name is not None else Path(file).stem
    try:
        documents = parse_documents(text, file)
    except ScenarioError as exc:
        raise ScenarioErrors([exc]) from None
    scenarios: list[Scenario] = []
    errors: list[ScenarioError] = []
    for number, document in enumerate(documents):
        name = stem if number == 0 else f"{stem}-{number + 1}"
        found, problems = parse_document(document, file, name)
        scenarios.extend(found)
        errors.extend(problems)
    if not documents:
        errors.append(ScenarioError(file, 1, "", "the file holds no scenario"))
    errors.extend(_duplicates(scenarios))
    if errors:
        raise ScenarioErrors(sorted(errors, key=lambda e: e.line or 0))
    return scenarios


def load_mapping(data: Mapping[str, Any], file: str = "<mapping>") -> list[Scenario]:
    """Scenarios from an already-parsed mapping (e.g. JSON, or a dict in a test)."""
    found, problems = parse_document(from_plain(dict(data), 1), file, "scenario")
    if problems:
        raise ScenarioErrors(problems)
    return found


def load_scenarios(paths: Iterable[PathLike]) -> list[Scenario]:
    """Every scenario in the given files and folders; raises ScenarioErrors listing
    every problem in every file, so one run shows them all."""
    scenarios: list[Scenario] = []
    errors: list[ScenarioError] = []
    for path in scenario_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(ScenarioError(str(path), None, "", f"cannot read: {exc}"))
            continue
        try:
            scenarios.extend(load_text(text, str(path)))
        except ScenarioErrors as exc:
            errors.extend(exc.errors)
    errors.extend(_duplicates(scenarios))
    if errors:
        raise ScenarioErrors(_unique(errors))
    return scenarios


def _duplicates(scenarios: list[Scenario]) -> list[ScenarioError]:
    seen: dict[str, Scenario] = {}
    errors = []
    for scenario in scenarios:
        first = seen.setdefault(scenario.name, scenario)
        if first is not scenario:
            errors.append(
                ScenarioError(
                    scenario.file,
                    scenario.line,
                    "name",
                    f"another scenario is already named {scenario.name!r} ({first.file}:{first.line})",
                )
            )
    return errors


def _unique(errors: list[ScenarioError]) -> list[ScenarioError]:
    seen: set[str] = set()
    unique = []
    for error in errors:
        if error.format() not in seen:
            seen.add(error.format())
            unique.append(error)
    return unique
