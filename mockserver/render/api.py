"""What every API renderer provides. A new API is one module implementing this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..scenario.model import Response
from .errors import ApiError
from .plan import TimedEvent
from .request import ApiRequest
from .script import Script


@dataclass(frozen=True, slots=True)
class Rendering:
    """How one request is being answered: the script and its request."""

    script: Script
    request: ApiRequest
    response: Response

    @property
    def line_ending(self) -> str:
        return self.response.transport.line_ending


class Api(Protocol):
    name: str  # as in `mockserver show --api NAME`

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

    def stream(self, rendering: Rendering) -> list[TimedEvent]:
        """The events of a streamed response, each with its time offset."""
        ...

    def body(self, rendering: Rendering) -> Any:
        """The JSON body of a non-streamed response: the stream, accumulated."""
        ...
