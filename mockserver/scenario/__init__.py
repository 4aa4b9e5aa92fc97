"""The scenario language: a frozen model, and a YAML loader with line marks."""

from .load import load_mapping, load_scenarios, load_text, scenario_files
from .model import Response, Scenario

__all__ = ["Response", "Scenario", "load_mapping", "load_scenarios", "load_text", "scenario_files"]
