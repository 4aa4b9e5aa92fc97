"""The answers kept for APIs whose requests continue earlier ones by id (Responses'
`previous_response_id`): bounded, the least recently used forgotten first."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class ResponseStore:
    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def put(self, key: str, stored: dict[str, Any]) -> None:
        """Keep an answer: its response, and its chain's items (the previous chain's,
        this request's input, this response's output), for the next to continue."""
        previous = self._kept.get(str(stored.get("previous")))
        items = [
            *(previous["items"] if previous else []),
            *stored["input"],
            *stored["response"].get("output", []),
        ]
        self._kept[key] = {"response": stored["response"], "items": items}
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def chain(self, key: str) -> dict[str, Any] | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def response(self, key: str) -> Any:
        found = self._kept.get(key)
        return found["response"] if found else None

    def delete(self, key: str) -> bool:
        return self._kept.pop(key, None) is not None

    def clear(self) -> None:
        self._kept.clear()
