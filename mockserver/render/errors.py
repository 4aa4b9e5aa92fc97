"""API errors, API-neutral: which status goes with which error type, and the
defaults for an error given only by status or only by type."""

from __future__ import annotations

from dataclasses import dataclass

from ..scenario.model import ErrorSpec
from ..scenario.template import TemplateValues


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error with every field decided: what the API renderers put on the wire."""

    status: int
    message: str
    type: str
    code: str | None
    param: str | None


# Error types (OpenAI's and Anthropic's words) → HTTP status.
TYPE_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_timeout": 408,
    "conflict_error": 409,
    "request_too_large": 413,
    "unprocessable_entity_error": 422,
    "rate_limit_error": 429,
    "requests": 429,
    "tokens": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "api_error": 500,
    "service_unavailable_error": 503,
    "timeout_error": 504,
    "overloaded_error": 529,
}

# Status → (type, code, message) that OpenAI sends for it.
STATUS_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    402: ("billing_error", None, "Payment required."),
    403: ("permission_error", None, "You are not allowed to make this request."),
    404: ("not_found_error", None, "Not found."),
    408: ("request_timeout", None, "Request timed out."),
    409: ("conflict_error", None, "The request conflicts with the current state."),
    413: ("request_too_large", None, "Request too large."),
    422: ("unprocessable_entity_error", None, "The request could not be processed."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
    504: ("server_error", None, "Gateway timeout."),
    529: ("overloaded_error", None, "Overloaded."),
}


def status_for(spec: ErrorSpec | None, given: int | None) -> int:
    """The HTTP status of an error response: as given, else from its type, else 500."""
    if given is not None:
        return given
    if spec is not None and spec.type is not None:
        return TYPE_STATUS.get(spec.type, 500)
    return 500


def resolve(spec: ErrorSpec | None, status: int, values: TemplateValues) -> ApiError:
    """Fill in what the scenario left out, from the status."""
    default_type, default_code, default_message = STATUS_DEFAULTS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
    )
    spec = spec or ErrorSpec()
    message = spec.message.render(values) if spec.message is not None else default_message
    error_type = spec.type or default_type
    code = spec.code if spec.code is not None else (default_code if spec.type is None else None)
    return ApiError(
        status=status,
        message=message,
        type=error_type,
        code=str(code) if code is not None else None,
        param=spec.param,
    )
