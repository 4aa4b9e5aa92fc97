"""`{{ request.* }}` placeholders in scenario strings, compiled once at load time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .fields import suggest

# `{{ "{{" }}` is a literal `{{` (how text holding braces is written, e.g. recorded)
_OPEN = '"{{"'
_PLACEHOLDER = re.compile(r'\{\{\s*("\{\{"|[^{}]*?)\s*\}\}')
VARIABLES = (
    "request.model",
    "request.last_message",
    "request.headers.NAME",
    "request.turn",
    "request.tool_results.NAME",
)


class TemplateValues(Protocol):
    """What a placeholder can read: the request being answered."""

    @property
    def model(self) -> str: ...

    @property
    def last_message(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def turn(self) -> int: ...

    def tool_result(self, name: str) -> str:
        """The latest result's content for tool `name` ("" if none)."""
        ...


@dataclass(frozen=True, slots=True)
class Var:
    name: str  # "model", "last_message", "turn", "headers" or "tool_results"
    key: str = ""  # the header name (lower case) or the tool's name

    def value(self, values: TemplateValues) -> str:
        if self.name == "model":
            return values.model
        if self.name == "last_message":
            return values.last_message
        if self.name == "turn":
            return str(values.turn)
        if self.name == "tool_results":
            return values.tool_result(self.key)
        return values.headers.get(self.key, "")


@dataclass(frozen=True, slots=True)
class Template:
    """A string with placeholders, as literal parts and variables."""

    parts: tuple[str | Var, ...]

    @property
    def constant(self) -> str | None:
        """The text, when the template has no placeholders."""
        if not self.parts:
            return ""
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        return None

    def render(self, values: TemplateValues) -> str:
        return "".join(p if isinstance(p, str) else p.value(values) for p in self.parts)


def literal(text: str) -> Template:
    return Template((text,) if text else ())


def compile_template(text: str) -> Template:
    """Compile `text`; raises ValueError naming a bad placeholder."""
    parts: list[str | Var] = []

    def add(part: str | Var) -> None:
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part  # literal text in one part: `constant` sees it
        elif part:
            parts.append(part)

    position = 0
    for found in _PLACEHOLDER.finditer(text):
        add(text[position : found.start()])
        add(_variable(found.group(1)))
        position = found.end()
    add(text[position:])
    return Template(tuple(parts))


def escape_template(text: str) -> str:
    """`text` as a template that renders to `text` exactly."""
    return text.replace("{{", "{{ " + _OPEN + " }}") if "{{" in text else text


def _variable(expression: str) -> Var | str:
    if expression == _OPEN:
        return "{{"
    if expression in ("request.model", "request.last_message", "request.turn"):
        return Var(expression.split(".", 1)[1])
    if expression.startswith("request.headers.") and len(expression) > len("request.headers."):
        return Var("headers", expression[len("request.headers.") :].lower())
    if expression.startswith("request.tool_results.") and len(expression) > len("request.tool_results."):
        return Var("tool_results", expression[len("request.tool_results.") :])
    choices = (
        "request.model",
        "request.last_message",
        "request.headers",
        "request.turn",
        "request.tool_results",
    )
    raise ValueError(
        f"unknown placeholder {{{{ {expression} }}}}{suggest(expression, choices)}; "
        f"known: {', '.join(VARIABLES)}"
    )


def compile_json(value: Any) -> Any:
    """A JSON-like value whose strings become Templates where they have placeholders."""
    if isinstance(value, str):
        template = compile_template(value)
        return value if template.constant is not None else template
    if isinstance(value, dict):
        return {key: compile_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [compile_json(item) for item in value]
    return value


def render_json(value: Any, values: TemplateValues) -> Any:
    if isinstance(value, Template):
        return value.render(values)
    if isinstance(value, dict):
        return {key: render_json(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render_json(item, values) for item in value]
    return value
