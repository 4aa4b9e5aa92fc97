"""The live log: one line per request while serving, readable by a person at a
terminal (colour on a TTY) or by a machine (`--log-format json`), and a summary
when the server stops."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import TextIO

from .journal import Entry

_COLOURS = {"green": "32", "yellow": "33", "red": "31", "magenta": "35", "dim": "2"}


class RequestLog:
    def __init__(
        self, stream: TextIO | None = None, *, fmt: str = "text", colour: bool | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.fmt = fmt
        self.colour = self.stream.isatty() if colour is None else colour
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self.left_early = 0

    def request(self, entry: Entry) -> None:
        self.requests += 1
        if entry.fault:
            self.faults[entry.fault] += 1
        if entry.left_early:
            self.left_early += 1
        line = self._json(entry) if self.fmt == "json" else self._text(entry)
        self.stream.write(line + "\n")
        self.stream.flush()

    def _paint(self, text: str, colour: str) -> str:
        return f"\033[{_COLOURS[colour]}m{text}\033[0m" if self.colour else text

    def _text(self, entry: Entry) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.time)) + f".{int(entry.time % 1 * 1000):03d}"
        scenario = entry.scenario if entry.scenario is not None else "auto"
        if entry.response_index is not None:
            scenario += f"[{entry.response_index + 1}]"
        elif entry.status is not None and entry.status >= 400 and entry.json is None:
            scenario = "-"
        status = str(entry.status) if entry.status is not None else "---"
        colour = (
            "green"
            if entry.status and entry.status < 400
            else "yellow"
            if entry.status and entry.status < 500
            else "red"
        )
        parts = [
            self._paint(stamp, "dim"),
            f"{entry.method} {entry.path}",
            scenario,
            self._paint(status, colour),
            f"{entry.events_sent}/{entry.events_total} events",
            f"{(entry.duration or 0) * 1000:.0f}ms",
        ]
        if entry.fault:
            parts.append(self._paint(f"fault={entry.fault}", "magenta"))
        if entry.left_early:
            parts.append(self._paint(f"client left after event {entry.left_after_event}", "yellow"))
        elif entry.ending not in (None, "close"):
            parts.append(str(entry.ending))
        line = "  ".join(parts)
        for warning in entry.warnings or ():
            line += "\n" + self._paint(f"    warning: {warning}", "yellow")
        return line

    def _json(self, entry: Entry) -> str:
        record = entry.to_dict()
        del record["headers"], record["json"]
        record["model"] = entry.json.get("model") if isinstance(entry.json, dict) else None
        return json.dumps(record, separators=(",", ":"))

    def summary(self) -> str:
        faults = ", ".join(f"{name} {count}" for name, count in self.faults.most_common())
        total = sum(self.faults.values())
        return (
            f"mockserver stopped: {self.requests} request{'s' if self.requests != 1 else ''}, "
            f"{total} fault{'s' if total != 1 else ''}{f' ({faults})' if faults else ''}, "
            f"{self.left_early} client{'s' if self.left_early != 1 else ''} left early"
        )
