"""Which scenario answers a request, and each scenario's request count."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import ScenarioNotFound
from ..render.request import ApiRequest
from ..scenario.model import Scenario
from .match import matches, mismatch
from .recent import Recent


class Registry:
    """The loaded scenarios, by name and in matching order."""

    def __init__(self, scenarios: Iterable[Scenario] = ()) -> None:
        self._by_name: dict[str, Scenario] = {}
        self._ordered: list[Scenario] = []
        for scenario in scenarios:
            self.add(scenario)

    def add(self, scenario: Scenario) -> None:
        """Add, or replace one of the same name in its place."""
        if scenario.name in self._by_name:
            self.remove(scenario.name)
        self._by_name[scenario.name] = scenario
        self._ordered.append(scenario)
        self._sort()

    def remove(self, name: str) -> bool:
        scenario = self._by_name.pop(name, None)
        if scenario is None:
            return False
        self._ordered.remove(scenario)
        return True

    def _sort(self) -> None:
        # Higher priority first; equal priorities keep load order (sort is stable).
        self._ordered.sort(key=lambda s: -(s.match.priority if s.match else 0))

    def get(self, name: str) -> Scenario | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[Scenario]:
        return iter(list(self._by_name.values()))

    def first_match(self, request: ApiRequest, *, require_path: bool = False) -> Scenario | None:
        """The first scenario whose rule accepts `request`; with require_path, only
        rules that name a path take part (how raw endpoints come to exist)."""
        for scenario in self._ordered:
            rule = scenario.match
            if rule is None or (require_path and rule.path is None):
                continue
            if matches(rule, request):
                return scenario
        return None

    def explain_miss(self, request: ApiRequest) -> list[str]:
        """For each scenario, why it did not answer `request` (strict mode's 404)."""
        reasons = []
        for scenario in self._ordered:
            rule = scenario.match
            if rule is None:
                why = "no match rule: it answers only when named (/s/NAME/ or X-Mock-Scenario)"
            else:
                why = mismatch(rule, request) or "matches"
            reasons.append(f"{scenario.name}: {why}")
        return reasons

    def choose(self, request: ApiRequest, *, named: str | None, default: str | None) -> Scenario | None:
        """The scenario for `request`, or None for the auto-responder. A name given
        by path prefix or header that is not loaded raises ScenarioNotFound."""
        if named is not None:
            scenario = self.get(named)
            if scenario is None:
                raise ScenarioNotFound(named, self.names())
            return scenario
        found = self.first_match(request)
        if found is not None:
            return found
        if default is not None:
            scenario = self.get(default)
            if scenario is None:
                raise ScenarioNotFound(default, self.names())
            return scenario
        return None


MAX_COUNTERS = 10_000  # counts kept, one per scenario and X-Mock-Session value; the least recently used go


class Counters(Recent[str, int]):
    """How many requests each scenario has answered: request k gets responses[k].
    Bounded: every new X-Mock-Session value adds a count, and clients choose them."""

    def __init__(self, size: int = MAX_COUNTERS) -> None:
        super().__init__(size)

    def next(self, key: str) -> int:
        number = self.get(key) or 0
        self.put(key, number + 1)
        return number
