"""The steps of one recorded answer, written as they are read: each text delta and
tool-argument fragment a piece with its exact boundaries, pieces that arrived
together (within a millisecond) one step with a `split` list, each step with the
`delay` measured before it. Lines go to a spool file as they are made, so a stream of
any length is recorded in bounded memory.

With `--redact`, pieces wait in a window of about WINDOW characters before they are
written, so a pattern is found even when a secret arrived cut into several deltas."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any

from ..render.reading import Channel, Frame
from ..scenario.model import FINISH_REASONS
from ..scenario.template import escape_template
from .redact import Redactor
from .yaml_out import flow, seconds

TOGETHER = 0.001  # seconds: pieces closer than this came in one read, and share a step
MAX_PIECES = 500  # pieces one step holds at most (a step is a line: keep it readable)
WINDOW = 1024  # characters of pieces held back for redaction


@dataclass(slots=True)
class _Piece:
    key: tuple[str, int]  # ("text" | "reasoning" | "refusal" | "tool" | "function", call index)
    text: str
    at: float


@dataclass(slots=True)
class _Group:
    """Pieces of one kind that came together: one step."""

    key: tuple[str, int]
    at: float
    start: dict[str, Any] | None = None  # a tool call's name and id, on its first step
    pieces: list[str] = field(default_factory=list)
    last_at: float = 0.0


class StepWriter:
    """A `StepSink` writing the §5 language, one step a line, to `out`."""

    def __init__(self, out: IO[str], redactor: Redactor | None = None) -> None:
        self.out = out
        self.redactor = redactor
        self.now = 0.0  # when the frame being read arrived (seconds after the headers)
        self.clock = 0.0  # where the written delays have brought the replay's clock
        self.count = 0  # steps written
        self.pinned: dict[str, Any] = {}
        self.window: deque[_Piece] = deque()
        self.window_size = 0
        self.group: _Group | None = None
        self.started_calls: set[tuple[str, int]] = set()
        self.pending_starts: dict[tuple[str, int], dict[str, Any]] = {}

    # --- StepSink ---

    def pin(self, *, id: str | None = None, created: int | None = None, model: str | None = None) -> None:
        for key, value in (("id", id), ("created", created), ("model", model)):
            if value is not None and key not in self.pinned:
                self.pinned[key] = value

    def text(self, channel: Channel, piece: str) -> None:
        self._piece((channel, 0), piece)

    def tool_start(self, index: int, call_id: str, name: str) -> None:
        key = ("tool", index)
        if key in self.started_calls or key in self.pending_starts:
            return
        start: dict[str, Any] = {"name": name}
        if call_id:
            start["id"] = call_id
        start["index"] = index
        self.pending_starts[key] = start
        self._piece(key, "")  # the start is a step even if no argument follows

    def tool_args(self, index: int, piece: str) -> None:
        if ("tool", index) not in self.started_calls and ("tool", index) not in self.pending_starts:
            self.tool_start(index, "", "")
        self._piece(("tool", index), piece)

    def function_start(self, name: str) -> None:
        key = ("function", 0)
        if key not in self.started_calls and key not in self.pending_starts:
            self.pending_starts[key] = {"name": name}
            self._piece(key, "")

    def function_args(self, piece: str) -> None:
        if ("function", 0) not in self.started_calls and ("function", 0) not in self.pending_starts:
            self.function_start("")
        self._piece(("function", 0), piece)

    def finish(self, reason: str) -> None:
        self._step({"finish": reason if reason in FINISH_REASONS else "stop"})

    def usage(self, input: int | None, output: int | None) -> None:
        counts = {k: v for k, v in (("input", input), ("output", output)) if v is not None}
        self._step({"usage": counts or "auto"})

    def error(self, message: str, type: str | None, code: str | int | None, param: str | None) -> None:
        spec: dict[str, Any] = {"message": escape_template(self._redact(message))}
        spec.update({k: v for k, v in (("type", type), ("code", code), ("param", param)) if v is not None})
        self._step({"error": spec})

    def comment(self, text: str) -> None:
        self._step({"comment": self._redact(text)})

    def event(self, frame: Frame) -> None:
        fields: dict[str, Any] = {}
        if frame.event is not None:
            fields["event"] = frame.event
        if frame.data is not None:
            fields["data"] = escape_template(self._redact(frame.data))
        if frame.id is not None:
            fields["id"] = frame.id
        if frame.retry is not None:
            fields["retry"] = frame.retry
        self._step({"event": fields})

    # --- what the recorder adds ---

    def raw(self, text: str) -> None:
        """A frame kept exactly as its bytes were (a line of JSON, recorded `--exact`)."""
        self._step({"raw": escape_template(self._redact(text))})

    def stop(self, how: str) -> None:
        """How the body ended, when not by its API's own end: disconnect, reset, stall, end."""
        self._step({how: True})

    def close(self) -> None:
        self._flush_window(everything=True)
        self._write_group()

    # --- pieces, grouped ---

    def _piece(self, key: tuple[str, int], text: str) -> None:
        if self.redactor is None:
            self._group(_Piece(key, text, self.now))
            return
        self.window.append(_Piece(key, text, self.now))
        self.window_size += len(text)
        if self.window_size > 2 * WINDOW:
            self._flush_window(everything=False)

    def _flush_window(self, *, everything: bool) -> None:
        if not self.window:
            return
        if self.redactor is not None:
            self.redactor.pieces(self.window)
            self.window_size = sum(len(piece.text) for piece in self.window)
        while self.window and (everything or self.window_size > WINDOW):
            piece = self.window.popleft()
            self.window_size -= len(piece.text)
            self._group(piece)

    def _group(self, piece: _Piece) -> None:
        group = self.group
        start = self.pending_starts.pop(piece.key, None)
        if (
            group is None
            or start is not None
            or group.key != piece.key
            or piece.at - group.last_at >= TOGETHER
            or len(group.pieces) >= MAX_PIECES
        ):
            self._write_group()
            if start is not None:
                self.started_calls.add(piece.key)
            self.group = group = _Group(piece.key, piece.at, start)
        if piece.text:
            group.pieces.append(piece.text)
        group.last_at = piece.at

    def _write_group(self) -> None:
        group, self.group = self.group, None
        if group is None or not (group.pieces or group.start):
            return
        kind, _ = group.key
        joined = "".join(group.pieces)
        step: dict[str, Any]
        if kind in ("tool", "function"):
            call: dict[str, Any] = dict(group.start or {})
            if kind == "tool" and not call:
                call["index"] = group.key[1]
            if len(group.pieces) == 0:
                call["arguments"] = ""
            else:
                call["split"] = group.pieces  # literal pieces: arguments are their join
            step = {"tool_call" if kind == "tool" else "function_call": call}
        else:
            step = {kind: escape_template(joined)}
            if len(group.pieces) > 1:
                step["split"] = group.pieces
        self._write(step, group.at)

    # --- one step, one line ---

    def _step(self, step: dict[str, Any]) -> None:
        self._flush_window(everything=True)
        self._write_group()
        self._write(step, self.now)

    def _write(self, step: dict[str, Any], at: float) -> None:
        delay = seconds(max(0.0, at - self.clock))
        if delay > 0:
            step["delay"] = delay
            self.clock += delay
        self.out.write("- " + flow(step) + "\n")
        self.count += 1

    def _redact(self, text: str) -> str:
        return self.redactor.text(text) if self.redactor is not None else text
