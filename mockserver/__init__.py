"""mockserver: scripted streaming LLM API responses for offline, deterministic tests."""

from .errors import MockServerError, ScenarioError, ScenarioErrors, ScenarioNotFound
from .runner import MockServer
from .scenario import Scenario, load_scenarios
from .server.app import create_app
from .version import __version__

__all__ = [
    "__version__",
    "MockServer",
    "MockServerError",
    "Scenario",
    "ScenarioError",
    "ScenarioErrors",
    "ScenarioNotFound",
    "create_app",
    "load_scenarios",
]
