"""What every API provides. A new API is one module implementing `Api` (most of it
inherited from `ApiDefaults`) plus its line in the registry (render/__init__.py):
its routes, its request check, its framing and content type, its payloads, its
error shapes before and inside a stream, and what the plan cache and chaos need
to know about it. Nothing outside its module asks for an API by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from ..scenario.model import Response
from .errors import ApiError
from .frames import Frames, SseFrames
from .plan import TimedEvent
from .reading import StepSink, WireReader
from .request import ApiRequest
from .script import Identity, Script


@dataclass(frozen=True, slots=True)
class Rendering:
    """How one request is being answered: the script and its request."""

    script: Script
    request: ApiRequest
    response: Response

    @property
    def line_ending(self) -> str:
        return self.response.transport.line_ending


SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
}
# A broken SSE data line (chaos' `malformed` fault): half a JSON object, then the
# blank line that ends the event, so the next event still parses.
MALFORMED_SSE = b'data: {"id": "chatcmpl-malformed", "choices": [{"delta": {"content": "trunc\n\n'


class Api(Protocol):
    name: str  # as in `mockserver show --api NAME`

    @property
    def routes(self) -> tuple[str, ...]:
        """The POST paths it answers (each also under /s/NAME/)."""
        ...

    def stream_headers(self, request: ApiRequest) -> dict[str, str]:
        """Its framing's headers for a stream to `request`: content type and the like
        (a query parameter may choose the framing)."""
        ...

    @property
    def malformed(self) -> bytes:
        """What chaos' `malformed` fault slips into one of its streams."""
        ...

    @property
    def cacheable(self) -> bool:
        """Whether its plans are a function of the request shape alone (the plan
        cache renders once per shape and re-stamps the ids)."""
        ...

    @property
    def keeps_history(self) -> bool:
        """Whether the server keeps its answers for later requests (`to_store`), and
        serves them at GET and DELETE `{route}/{id}`."""
        ...

    @property
    def any_path(self) -> bool:
        """Whether it answers paths no API routes, where a scenario's match.path names them."""
        ...

    @property
    def unsupported(self) -> frozenset[str]:
        """Step kinds it has no form for: left out of its streams, said by `show` and
        the journal (`skipped`)."""
        ...

    @property
    def heavy(self) -> bool:
        """Whether its answers can be large: rendered off the event loop."""
        ...

    @property
    def model_list_routes(self) -> tuple[str, ...]:
        """GET paths that list the models (the scenarios' and the usual ones)."""
        ...

    def model_list(self, ids: list[str]) -> Any:
        """The JSON body those routes answer with."""
        ...

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        """The smallest valid request body of this API (`mockserver show` renders for it)."""
        ...

    def issued_calls(self, script: Script) -> tuple[tuple[str, str, str], ...]:
        """The tool calls a response makes, as (the id on its wire, name, arguments)."""
        ...

    def with_history(self, request: ApiRequest, stored: Callable[[str], Any]) -> ApiRequest:
        """The request with the history the server keeps for it (Responses'
        `previous_response_id`: `stored(id)` gives what was stored, or None).
        Raises BadRequest for history it does not have."""
        ...

    def to_store(self, request: ApiRequest, body: bytes) -> tuple[str, Any] | None:
        """What to keep of an answer so a later request can continue from it: (its id,
        the stored value), or None (nothing kept: most APIs carry history themselves)."""
        ...

    def restamp_pairs(self, response: Response, old: Identity, new: Identity) -> list[tuple[str, str]]:
        """Strings of its own, besides the shared ids, that derive from the request's
        identity, each (the template's, this request's), of equal length."""
        ...

    def parse(self, body: Any, request: ApiRequest) -> ApiRequest:
        """Check the request body and fill in the API-specific fields of `request`.
        Raises BadRequest, which becomes the API's 400 error."""
        ...

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        """The JSON body of an error response, in this API's shape."""
        ...

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        """An error inside a stream, as this API sends one (the `error` step, chaos)."""
        ...

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        """Headers this API always sends (its request-id header, ...)."""
        ...

    def stream(self, rendering: Rendering) -> Iterable[TimedEvent]:
        """The events of a streamed response, each with its time offset, in order. A
        generator is best: a long stream then starts playing while it renders."""
        ...

    def body(self, rendering: Rendering) -> Any:
        """The JSON body of a non-streamed response: the stream, accumulated."""
        ...

    def frames(self) -> Frames:
        """A reader of its streams' frames (SSE events, lines of JSON, binary frames),
        for recording."""
        ...

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        """How to read its answer to `request` back into steps (recording): the
        inverse of `stream` and `body`. None: it has none, and its answers are
        recorded exactly (each frame an `event` or `raw` step, a body as it came)."""
        ...

    def sample_path(self, model: str, *, stream: bool) -> str:
        """The path `sample_request` is sent to (its model or stream flag may be in it)."""
        ...

    def readable(self, data: bytes) -> str:
        """Bytes of its wire as people read them (`mockserver show`): binary framing decoded."""
        ...


class ApiDefaults:
    """What most APIs share: SSE framing, cacheable plans, light work."""

    routes: tuple[str, ...] = ()
    model_list_routes: tuple[str, ...] = ()
    malformed: bytes = MALFORMED_SSE
    cacheable = True
    heavy = False
    unsupported: frozenset[str] = frozenset()
    any_path = False
    keeps_history = False

    def sample_request(self, model: str, message: str, *, stream: bool) -> dict[str, Any]:
        return {"model": model, "messages": [{"role": "user", "content": message}], "stream": stream}

    def stream_headers(self, request: ApiRequest) -> dict[str, str]:
        return SSE_HEADERS

    def restamp_pairs(self, response: Response, old: Identity, new: Identity) -> list[tuple[str, str]]:
        return []

    def model_list(self, ids: list[str]) -> Any:
        return {"object": "list", "data": [{"id": model, "object": "model"} for model in ids]}

    def issued_calls(self, script: Script) -> tuple[tuple[str, str, str], ...]:
        return tuple((call.id, call.name, call.arguments) for call in script.reply.tool_calls)

    def with_history(self, request: ApiRequest, stored: Callable[[str], Any]) -> ApiRequest:
        return request

    def to_store(self, request: ApiRequest, body: bytes) -> tuple[str, Any] | None:
        return None

    def frames(self) -> Frames:
        return SseFrames()

    def reader(self, request: ApiRequest, steps: StepSink) -> WireReader | None:
        return None

    def sample_path(self, model: str, *, stream: bool) -> str:
        return self.routes[0] if self.routes else "/"

    def readable(self, data: bytes) -> str:
        return data.decode("utf-8", "replace")


def skipped_steps(api: Api, response: Response) -> list[str]:
    """The kinds of `response`'s steps that `api` leaves out, each once, in order."""
    if not api.unsupported:  # most APIs: asked of every request, so answered at once
        return []
    from ..scenario.describe import step_kind  # the render layer reads scenario names

    kinds = dict.fromkeys(step_kind(step) for step in response.stream)
    return [kind for kind in kinds if kind in api.unsupported]


def sample(
    api: Api, model: str, message: str, *, stream: bool, headers: dict[str, str] | None = None
) -> ApiRequest:
    """`api`'s smallest valid request, parsed (what `mockserver show` renders for)."""
    body = api.sample_request(model, message, stream=stream)
    path, _, query = api.sample_path(model, stream=stream).partition("?")
    request = ApiRequest(api.name, path=path, json=body, headers=headers or {}, query=dict(parse_qsl(query)))
    return api.parse(body, request)
