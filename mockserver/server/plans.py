"""Plans rendered once and re-stamped per request.

Rendering is pure, so two requests of the same shape to the same response get the
same bytes but for the ids and timestamps derived from the request number. The
cache keeps one rendering per (response, request shape) made with a template
identity, and gives each request a copy with its own identity swapped in: a few
`bytes.replace` calls instead of rendering every event again.

Only what is a function of the request shape alone is cached: no jitter, no
random write sizes, no auto-responder (its content varies per request), no
embeddings (their bytes are the input's). A long stream is not cached either: it
renders as it plays (Plan.rest), its template's slices re-stamped one by one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from ..render import Api, ApiRequest, Plan, plan_response
from ..render.api import skipped_steps
from ..render.plan import SLICE, Slice
from ..render.script import identity, seed_base, seeded_token
from ..scenario import model as m
from ..scenario.template import Template, Var

TEMPLATE_NUMBER = -1  # the request number of the renderings kept here
MAX_PLANS = 512
MAX_BYTES = 32 * 1024 * 1024  # bodies and keys the cache holds, at most
MAX_KEY_TEXT = 16 * 1024  # a request whose last message is longer is not cached (its echo would be)
MAX_CACHED_BODY = 1024 * 1024  # nor a rendering larger than this
SLICE_OVER = SLICE  # a stream of more events renders as it plays


class PlanCache:
    def __init__(self, size: int = MAX_PLANS, max_bytes: int = MAX_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.held_bytes = 0
        self._plans: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._header_names: dict[int, tuple[m.Response, tuple[str, ...]]] = {}
        self._skipped: dict[tuple[str, int], tuple[m.Response, list[str]]] = {}

    def plan(
        self,
        api: Api,
        response: m.Response,
        request: ApiRequest,
        *,
        scenario: str,
        number: int,
        seed: int | None,
        fresh_content: bool,
        cache: bool = True,
    ) -> Plan:
        """The plan; from the cache when it may be (`cache` False: render only, as a
        worker thread must, the cache being the loop's)."""
        if not cache or fresh_content or not _cacheable(api, response, request):
            return plan_response(
                api,
                response,
                request,
                scenario=scenario,
                number=number,
                seed=seed,
                fresh_content=fresh_content,
                # rendered off the loop (not `cache`): all of it there, none left for the loop
                slice_over=SLICE_OVER if cache else None,
            )
        key = (api.name, id(response), scenario, seed, self._request_key(response, request))
        cached = self._plans.get(key)
        if cached is None:
            template = plan_response(
                api,
                response,
                request,
                scenario=scenario,
                number=TEMPLATE_NUMBER,
                seed=seed,
                slice_over=SLICE_OVER,
            )
            cached = _Entry(response, template, len(template.body) + len(request.last_message))
            # a long stream (rest: played as it renders) is never kept, nor a large body
            if template.rest is None and len(template.body) <= MAX_CACHED_BODY:
                self._plans[key] = cached
                self.held_bytes += cached.cost
                while len(self._plans) > self.size or self.held_bytes > self.max_bytes:
                    self.held_bytes -= self._plans.popitem(last=False)[1].cost
        else:
            self._plans.move_to_end(key)
        template_base = seed_base(seed, scenario, TEMPLATE_NUMBER)
        return cached.restamp(_swaps(api, response, template_base, seed_base(seed, scenario, number)))

    def skipped(self, api: Api, response: m.Response) -> list[str]:
        """skipped_steps(api, response), found once per response: it walks every step,
        and is asked of every request (the journal shows it)."""
        known = self._skipped.get((api.name, id(response)))
        if known is None:
            if len(self._skipped) >= MAX_PLANS:  # scenarios added while serving: bounded
                self._skipped.clear()
            known = self._skipped[api.name, id(response)] = (response, skipped_steps(api, response))
        return known[1]

    def __len__(self) -> int:
        return len(self._plans)

    def clear(self) -> None:
        self._plans.clear()
        self.held_bytes = 0
        self._header_names.clear()
        self._skipped.clear()

    def _request_key(self, response: m.Response, request: ApiRequest) -> tuple[Any, ...]:
        """What a rendering reads of the request (see ApiRequest)."""
        names = self._headers_read(response)
        return (
            request.path,  # Ollama's /api/chat and /api/generate differ; Gemini's model is in it
            tuple(sorted(request.query.items())),  # Gemini's ?alt=sse chooses the framing
            request.model,
            request.stream,
            request.last_message,
            request.include_usage,
            request.input_words,
            request.tool_choice,
            tuple((t.name, repr(t.parameters)) for t in request.tools),
            request.conversation.turn,
            request.conversation.tool_results,
            tuple(request.headers.get(name) for name in names),
        )

    def _headers_read(self, response: m.Response) -> tuple[str, ...]:
        known = self._header_names.get(id(response))
        if known is None:
            known = self._header_names[id(response)] = (response, tuple(sorted(_header_vars(response))))
        return known[1]


def _cacheable(api: Api, response: m.Response, request: ApiRequest) -> bool:
    size = response.transport.write_size
    return (
        api.cacheable
        and len(request.last_message) <= MAX_KEY_TEXT
        and sum(len(r.content) for r in request.conversation.tool_results) <= MAX_KEY_TEXT
        and not response.timing.jitter
        and (size is None or size.minimum == size.maximum)
    )


def _header_vars(value: Any) -> set[str]:
    """The header names `{{ request.headers.NAME }}` placeholders read, anywhere in `value`."""
    if isinstance(value, Template):
        return {p.key for p in value.parts if isinstance(p, Var) and p.name == "headers"}
    if isinstance(value, dict):
        return set().union(*(_header_vars(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_header_vars(v) for v in value)) if value else set()
    if hasattr(value, "__dataclass_fields__"):
        return set().union(*(_header_vars(getattr(value, f)) for f in value.__dataclass_fields__))
    return set()


def _swaps(api: Api, response: m.Response, old_base: str, new_base: str) -> list[tuple[bytes, bytes]]:
    """Every string that depends on the request number, old → new, each pair of equal
    length. Longest first: the token comes before its 20-letter prefix (Responses
    item ids use that)."""
    old, new = identity(old_base), identity(new_base)
    pairs = [
        (old.token, new.token),
        (old.token[:20], new.token[:20]),
        (old.request_id, new.request_id),
        (old.fingerprint, new.fingerprint),
        (str(old.created), str(new.created)),
    ]
    calls = sum(1 for step in response.stream if isinstance(step, m.ToolCall))
    for index in range(calls):  # tool call ids (script._token) by tool index
        pairs.append((seeded_token(f"{old_base}/tool/{index}"), seeded_token(f"{new_base}/tool/{index}")))
    pairs += api.restamp_pairs(response, old, new)
    return [(a.encode(), b.encode()) for a, b in pairs]


class _Entry:
    """A template rendering. Every swap keeps lengths, so a request's plan is the
    template with a swapped body and the same cuts."""

    def __init__(self, response: m.Response, plan: Plan, cost: int) -> None:
        self.response = response  # held, so its id() cannot be reused while cached
        self.plan = plan
        self.cost = cost  # bytes counted against the cache's bound
        # Found on first use, the same for every request (the template's side of the
        # swaps is): the headers holding an id (the request-id one), and the swaps
        # whose template string is in the body at all (each swap is a pass over the
        # body; Chat's body holds no request id, nor a token prefix of its own).
        self.stamped: tuple[int, ...] | None = None
        self.in_body: tuple[int, ...] | None = None

    def restamp(self, swaps: list[tuple[bytes, bytes]]) -> Plan:
        plan = self.plan
        if self.in_body is None:
            self.in_body = tuple(i for i, (old, _) in enumerate(swaps) if old in plan.body)
        body = _swapped_bytes(plan.body, [swaps[i] for i in self.in_body])
        headers = plan.headers
        if self.stamped is None:
            olds = [old.decode() for old, _ in swaps]
            self.stamped = tuple(i for i, (_, value) in enumerate(headers) if any(o in value for o in olds))
        if self.stamped:
            changed = list(headers)
            for i in self.stamped:
                changed[i] = (headers[i][0], _swapped(headers[i][1], swaps))
            headers = tuple(changed)
        issued = tuple(
            (_swapped(call_id, swaps), name, arguments) for call_id, name, arguments in plan.issued
        )
        rest = None if plan.rest is None else _restamped(plan.rest, swaps)
        # Plan(...) by name rather than dataclasses.replace: a restamp is per request,
        # and replace's generic walk over the fields costs twice the constructor
        return Plan(
            status=plan.status,
            headers=headers,
            streaming=plan.streaming,
            body=body,
            cuts=plan.cuts,
            ending=plan.ending,
            ending_at=plan.ending_at,
            hold=plan.hold,
            headers_delay=plan.headers_delay,
            coalesce=plan.coalesce,
            issued=issued,
            rest=rest,
        )


def _restamped(slices: Iterator[Slice], swaps: list[tuple[bytes, bytes]]) -> Iterator[Slice]:
    """Each slice with the swaps made as it is read: a slice holds whole events, so no
    id is cut between two of them."""
    for body, cuts in slices:
        yield _swapped_bytes(body, swaps), cuts


def _swapped(text: str, swaps: list[tuple[bytes, bytes]]) -> str:
    """`text` with the swaps made (a header value, a tool-call id)."""
    return _swapped_bytes(text.encode(), swaps).decode()


def _swapped_bytes(data: bytes, swaps: list[tuple[bytes, bytes]]) -> bytes:
    """`data` with every swap made, in order."""
    for old, new in swaps:
        data = data.replace(old, new)
    return data
