"""The answers kept for APIs whose requests continue earlier ones by id (Responses'
`previous_response_id`): bounded, the least recently used forgotten first."""

from __future__ import annotations

from typing import Any

from .recent import Recent


class ResponseStore:
    def __init__(self, size: int) -> None:
        self._kept: Recent[str, dict[str, Any]] = Recent(size)

    def put(self, key: str, stored: dict[str, Any]) -> None:
        """Keep an answer: its response, and its chain's items (the previous chain's,
        this request's input, this response's output), for the next to continue."""
        previous = self._kept.get(str(stored.get("previous")))
        items = [
            *(previous["items"] if previous else []),
            *stored["input"],
            *stored["response"].get("output", []),
        ]
        self._kept.put(key, {"response": stored["response"], "items": items})

    def chain(self, key: str) -> dict[str, Any] | None:
        return self._kept.get(key)

    def response(self, key: str) -> Any:
        found = self._kept.get(key)
        return found["response"] if found else None

    def delete(self, key: str) -> bool:
        return self._kept.pop(key) is not None

    def clear(self) -> None:
        self._kept.clear()
