"""What a running server knows and what tests may change: scenarios, settings,
request counters, the journal, and failures to report."""

from __future__ import annotations

import asyncio
import traceback
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..config import Config
from ..scenario import Scenario

if TYPE_CHECKING:  # the recorder is loaded only when recording
    from ..record import Recorder
from .chaos import Chaos, ChaosSettings
from .feed import Feed
from .journal import Journal
from .log import RequestLog
from .offload import Offload
from .parsed import ParsedCache
from .plans import PlanCache
from .recent import Recent
from .select import Counters, Registry
from .store import ResponseStore
from .ticker import Ticker

MAX_FAILURES = 20
MAX_CONVERSATIONS = 10_000  # conversations whose streamed tool calls are remembered


@dataclass
class Settings:
    time_scale: float = 1.0
    seed: int | None = None
    default: str | None = None  # the scenario for requests no rule matches
    strict: bool = False  # no auto-responder: a request no scenario takes gets a 404 saying why


@dataclass
class ServerState:
    """One per application. Touched only from the server's event loop."""

    loaded: tuple[Scenario, ...]  # from the files given at start: kept by reset()
    config: Config = field(default_factory=Config)
    bound_host: str | None = None  # the address served on, once start_site knows it
    initial: Settings = field(init=False)  # what reset() goes back to
    initial_chaos: ChaosSettings = field(init=False)
    settings: Settings = field(init=False)
    store: ResponseStore = field(init=False)  # answers later requests continue by id
    registry: Registry = field(init=False)
    counters: Counters = field(default_factory=Counters)
    journal: Journal = field(init=False)
    # our own errors, for the test; the newest MAX_FAILURES, so a recurring bug
    # cannot grow memory without end
    failures: deque[BaseException] = field(default_factory=lambda: deque(maxlen=MAX_FAILURES))
    plans: PlanCache = field(default_factory=PlanCache)
    parsed: ParsedCache = field(default_factory=ParsedCache)
    chaos: Chaos = field(init=False)
    log: RequestLog | None = None  # the live log, when serving from the command line
    offload: Offload = field(default_factory=Offload)  # heavy renders, off the loop
    # strict mode's misses, explained (the fixture fails the test with them), newest kept
    misses: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_FAILURES))
    used: set[str] = field(default_factory=set)  # scenarios that answered a request
    # the tool calls streamed in each conversation, id → (name, arguments): what the
    # client must echo back; the least recently used conversations are forgotten
    issued: Recent[str, dict[str, tuple[str, str]]] = field(default_factory=lambda: Recent(MAX_CONVERSATIONS))
    # recording: where requests no scenario answers go (`record`, the pytest record modes)
    recorder: Recorder | None = None
    feed: Feed = field(default_factory=Feed)  # the console's live feed of requests
    running: asyncio.Event = field(default_factory=asyncio.Event)  # cleared: streams are paused
    ticker: Ticker = field(default_factory=Ticker)  # writes the open streams (server/ticker.py)

    def __post_init__(self) -> None:
        config = self.config
        self.initial = Settings(config.time_scale, config.seed, None, config.strict)
        self.initial_chaos = ChaosSettings(
            config.chaos, config.chaos_seed, config.faults, config.chaos_session
        )
        self.settings = replace(self.initial)
        self.registry = Registry(self.loaded)
        self.journal = Journal(config.journal_size, config.journal_bytes)
        self.store = ResponseStore(config.store_size)
        self.chaos = Chaos(replace(self.initial_chaos))
        self.running.set()

    # read often, so named here
    @property
    def admin_token(self) -> str | None:
        return self.config.admin_token

    @property
    def client_timeout(self) -> float:
        """For a request head (see guard.py) and for its body."""
        return self.config.client_timeout

    @property
    def max_body(self) -> int:
        return self.config.max_body

    def reset(self) -> None:
        """Forget counters, journal, failures and added scenarios; settings as at start."""
        self.settings = replace(self.initial)
        self.registry = Registry(self.loaded)
        self.counters.clear()
        self.journal.clear()
        self.failures.clear()
        self.misses.clear()
        self.used.clear()
        self.issued.clear()
        self.store.clear()
        self.plans.clear()
        self.parsed.clear()
        self.chaos.configure(replace(self.initial_chaos))
        self.chaos.next_fault = None
        self.running.set()

    def record_failure(self, exc: BaseException) -> None:
        """Keep a server error for the test to raise. Its frames' locals are let go
        (a request's plan can be megabytes); the traceback still prints."""
        traceback.clear_frames(exc.__traceback__)
        self.failures.append(exc)

    def add(self, scenarios: Iterable[Scenario]) -> list[str]:
        """Add (or replace, by name) scenarios while serving."""
        names = []
        for scenario in scenarios:
            self.registry.add(scenario)
            names.append(scenario.name)
        return names

    def remember_calls(self, conversation: str, calls: tuple[tuple[str, str, str], ...]) -> None:
        known = self.issued.get(conversation) or {}
        known.update({call_id: (name, arguments) for call_id, name, arguments in calls if call_id})
        self.issued.put(conversation, known)

    def next_number(self, scenario: str, session: str | None) -> int:
        """The request number for `scenario`, counted per X-Mock-Session value so
        tests sharing one server do not move each other's sequences."""
        return self.counters.next(scenario if session is None else f"{scenario}\0{session}")
