"""What a renderer needs to know of the request it answers, API-neutral."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    parameters: Mapping[str, Any] | None = None  # its JSON schema


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A request after its API parsed and checked it."""

    api: str  # "chat", "responses", ...
    model: str = ""
    stream: bool = False
    last_message: str = ""  # the text of the last user message
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None  # "auto", "none", "required", or a tool's name
    include_usage: bool = False
    input_words: int = 0
    method: str = "POST"
    path: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    json: Any = None

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)


class BadRequest(Exception):
    """The request is malformed; carries what the API's 400 error says."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
