"""Checks shared by the OpenAI request bodies, worded as the real API words them."""

from __future__ import annotations

import json
from typing import Any

from . import sse
from .api import ApiDefaults
from .errors import ApiError
from .request import BadRequest, Conversation, History, Tool

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


class OpenAIErrors(ApiDefaults):
    """What every OpenAI API shares: the error shape, in a body or in a stream, and
    the headers the real API sends with every response."""

    def error_body(self, error: ApiError, request_id: str = "") -> Any:
        return {
            "error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}
        }

    def error_event(self, error: ApiError, line_ending: str) -> bytes:
        return sse.data(self.error_body(error), line_ending)

    def response_headers(self, error: ApiError | None, request_id: str) -> dict[str, str]:
        return {"x-request-id": request_id, "openai-version": "2020-10-01"}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def invalid_type(param: str, expected: str, value: Any) -> BadRequest:
    return BadRequest(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
        param,
        "invalid_type",
    )


def missing(param: str) -> BadRequest:
    return BadRequest(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        raise BadRequest("you must provide a model parameter", None, None)
    if not isinstance(model, str):
        raise invalid_type("model", "a string", model)
    return model


def check_stream(body: dict[str, Any]) -> bool:
    stream = body.get("stream", False)
    if stream is None:
        return False
    if not isinstance(stream, bool):
        raise invalid_type("stream", "a boolean", stream)
    return stream


def check_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    if "messages" not in body:
        raise missing("messages")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise invalid_type("messages", "an array of objects", messages)
    if not messages:
        raise BadRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid_type(where, "an object", message)
        if "role" not in message:
            raise missing(f"{where}.role")
        role = message["role"]
        if role not in ROLES:
            raise BadRequest(
                f"Invalid value: '{role}'. Supported values are: {', '.join(repr(r) for r in ROLES)}.",
                f"{where}.role",
                "invalid_value",
            )
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise invalid_type(f"{where}.content", "one of a string or array of objects", content)
    return messages


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def messages_text(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """(the last user message's text, all messages' text)."""
    last_user = ""
    texts = []
    for message in messages:
        text = content_text(message.get("content"))
        texts.append(text)
        if message.get("role") == "user":
            last_user = text
    return last_user, "\n".join(texts)


def check_tools(body: dict[str, Any], *, chat: bool) -> tuple[tuple[Tool, ...], str | None]:
    """The offered tools (name and JSON schema) and the tool choice, normalized to
    "auto", "none", "required" or the name of one tool."""
    raw = body.get("tools")
    tools: list[Tool] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise invalid_type("tools", "an array", raw)
        for i, tool in enumerate(raw):
            if not isinstance(tool, dict):
                raise invalid_type(f"tools[{i}]", "an object", tool)
            # Chat nests the function ({"type":"function","function":{...}});
            # Responses puts name and parameters on the tool itself.
            spec = tool.get("function") if chat else tool
            if chat and not isinstance(spec, dict):
                raise missing(f"tools[{i}].function")
            assert isinstance(spec, dict)
            name = spec.get("name")
            if not isinstance(name, str):
                if name is None and not chat and tool.get("type") != "function":
                    continue  # a built-in tool (web search ...) has no name
                raise missing(f"tools[{i}].function.name" if chat else f"tools[{i}].name")
            parameters = spec.get("parameters")
            tools.append(Tool(name, parameters if isinstance(parameters, dict) else None))
    # Legacy `functions` / `function_call` request fields (Chat only).
    functions = body.get("functions") if chat else None
    if isinstance(functions, list):
        for spec in functions:
            if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                parameters = spec.get("parameters")
                tools.append(Tool(spec["name"], parameters if isinstance(parameters, dict) else None))
    choice = body.get("tool_choice", body.get("function_call") if chat else None)
    return tuple(tools), _tool_choice(choice)


def _tool_choice(choice: Any) -> str | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        return choice
    if isinstance(choice, dict):
        function = choice.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return str(function["name"])
        if isinstance(choice.get("name"), str):
            return str(choice["name"])
        if choice.get("type") in ("any", "required"):
            return "required"
    raise BadRequest("Invalid value for 'tool_choice'.", "tool_choice", "invalid_value")


def _arguments_json(arguments: Any) -> str:
    """Call arguments as JSON text: Chat sends a string, Ollama and Anthropic an object."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments, sort_keys=True)


def message_conversation(messages: list[Any], system: str = "") -> Conversation:
    """The conversation in a list of role messages (Chat, Ollama, Anthropic): the turn
    is 1 + the assistant messages; the tool results are those after the last one,
    each tied to its call by id (or, where the API carries no id, by its tool name).
    Chat and Ollama put calls in `tool_calls` and results in `tool` messages;
    Anthropic puts them in `tool_use` / `tool_result` content blocks."""
    history = History(system)
    for message in messages:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if role == "assistant":
            history.assistant_turn()
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    history.call(
                        str(call.get("id") or ""),
                        str(function.get("name") or ""),
                        _arguments_json(function.get("arguments", "")),
                    )
            for block in blocks:
                if block.get("type") == "tool_use":
                    history.call(
                        str(block.get("id") or ""),
                        str(block.get("name") or ""),
                        _arguments_json(block.get("input", {})),
                    )
        elif role == "tool":
            tool_name = message.get("tool_name")
            history.result(
                str(message.get("tool_call_id") or ""),
                content_text(content),
                str(tool_name) if tool_name else None,
            )
        elif role in ("system", "developer"):
            history.system(content_text(content))
        elif role == "user":
            for block in blocks:
                if block.get("type") == "tool_result":
                    history.result(str(block.get("tool_use_id") or ""), content_text(block.get("content")))
            history.user(content_text(content))
    return history.conversation()
