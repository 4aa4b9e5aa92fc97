"""`GET /v1/models` and `GET /v1/models/{id}`: the models the loaded scenarios
name, plus the usual ones. An Anthropic client (it sends `anthropic-version`)
gets Anthropic's list shape."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..render import Api
from ..render.errors import ApiError
from ..render.openai_request import OpenAIErrors
from .state import ServerState

DEFAULT_MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "o4-mini",
    "gpt-3.5-turbo-instruct",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "claude-sonnet-4-6",
    "claude-haiku-4-6",
)
CREATED = 1_700_000_000


def model_ids(state: ServerState) -> list[str]:
    """Defaults, then every exact model a scenario sets or matches, without repeats."""
    ids = dict.fromkeys(DEFAULT_MODELS)
    for scenario in state.registry:
        rule = scenario.match
        if rule is not None and rule.model is not None and not set(rule.model) & set("*?["):
            ids[rule.model] = None
        for response in scenario.responses:
            constant = response.model.constant if response.model is not None else None
            if constant:
                ids[constant] = None
    return list(ids)


def _openai(model: str) -> dict[str, Any]:
    owner = "anthropic" if model.startswith("claude") else "openai"
    return {"id": model, "object": "model", "created": CREATED, "owned_by": owner}


def _anthropic(model: str) -> dict[str, Any]:
    return {"type": "model", "id": model, "display_name": model, "created_at": "2025-01-01T00:00:00Z"}


async def list_models(request: web.Request, state: ServerState) -> web.Response:
    ids = model_ids(state)
    if "anthropic-version" in request.headers:
        data = [_anthropic(m) for m in ids]
        return web.json_response({"data": data, "has_more": False, "first_id": ids[0], "last_id": ids[-1]})
    return web.json_response({"object": "list", "data": [_openai(m) for m in ids]})


async def get_model(request: web.Request, state: ServerState) -> web.Response:
    model = request.match_info["model"]
    if model not in model_ids(state):
        message = f"The model '{model}' does not exist or you do not have access to it."
        error = ApiError(404, message, "invalid_request_error", "model_not_found", None)
        return web.json_response(OpenAIErrors().error_body(error), status=404)
    if "anthropic-version" in request.headers:
        return web.json_response(_anthropic(model))
    return web.json_response(_openai(model))


async def list_models_of(request: web.Request, state: ServerState, api: Api) -> web.Response:
    """A model list route an API declares (`Api.model_list_routes`), in its shape."""
    return web.json_response(api.model_list(model_ids(state)))
