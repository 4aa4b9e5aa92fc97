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
class ToolOutput:
    """A tool's result the client sends back: what answers one of the model's calls."""

    name: str  # the tool's name ("" where the API carries neither name nor a known id)
    id: str  # the id of the call it answers ("" where the API carries none)
    content: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the request carries of the conversation so far, read the way its API
    carries history: this turn's number (1 + the assistant turns before it), the tool
    results it brings back, the calls earlier assistant turns made, the system prompt,
    and the first user message (which, with the session, tells conversations apart)."""

    turn: int = 1
    tool_results: tuple[ToolOutput, ...] = ()
    earlier_calls: tuple[tuple[str, str, str], ...] = ()  # (id, name, arguments JSON)
    system: str = ""
    first_message: str = ""

    def result_of(self, name: str) -> str:
        """The latest result's content for tool `name` ("" if none)."""
        return next((r.content for r in reversed(self.tool_results) if r.name == name), "")


class History:
    """A Conversation, built as an API's history is read in order, so that every API
    counts turns and ties results the same way: the turn is 1 + the assistant turns,
    the tool results are those after the last of them, and a result is tied to its
    call by id (its tool's name is the call's unless the API names it itself)."""

    def __init__(self, system: str = "") -> None:
        self.turn = 1
        self.results: list[ToolOutput] = []
        self.earlier: list[tuple[str, str, str]] = []
        self.names: dict[str, str] = {}  # tool name by call id
        self.systems = [system] if system else []
        self.first = ""

    def assistant_turn(self) -> None:
        self.turn += 1
        self.results = []  # results answer the latest assistant turn

    def call(self, call_id: str, name: str, arguments: str) -> None:
        """A call an assistant turn made (its arguments as JSON text)."""
        self.names[call_id] = name
        self.earlier.append((call_id, name, arguments))

    def result(self, call_id: str, content: str, name: str | None = None) -> None:
        self.results.append(
            ToolOutput(name if name is not None else self.names.get(call_id, ""), call_id, content)
        )

    def system(self, text: str) -> None:
        self.systems.append(text)

    def user(self, text: str) -> None:
        self.first = self.first or text

    def conversation(self) -> Conversation:
        return Conversation(
            self.turn, tuple(self.results), tuple(self.earlier), "\n".join(self.systems), self.first
        )


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
    query: Mapping[str, str] = field(default_factory=dict)  # the URL's query parameters
    json: Any = None
    conversation: Conversation = field(default_factory=Conversation)

    @property
    def turn(self) -> int:
        return self.conversation.turn

    def tool_result(self, name: str) -> str:
        return self.conversation.result_of(name)

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)


class BadRequest(Exception):
    """The request is malformed; carries what the API's 400 error says."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
