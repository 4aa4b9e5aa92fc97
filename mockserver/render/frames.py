"""Cutting an answer's body, as its bytes arrive, into frames: SSE events and
comments, or lines of JSON. Lines are cut on bytes and decoded whole, so a character
split across two network reads arrives intact; CRLF, CR and LF all end a line, and
the first one seen is the stream's line ending (replayed as it was)."""

from __future__ import annotations

from typing import Protocol

from .reading import Frame

MAX_LINE = 16 << 20  # bytes one line may have before it is cut anyway (memory stays bounded)


class Frames(Protocol):
    line_ending: str | None

    def feed(self, chunk: bytes) -> list[Frame]: ...

    def end(self) -> list[Frame]:
        """What is left when the body ends (an event without its blank line)."""
        ...


class _Lines:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.line_ending: str | None = None

    def lines(self, chunk: bytes, final: bool = False) -> list[str]:
        self.buffer += chunk
        out: list[str] = []
        start = 0
        buffer = self.buffer
        while True:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf >= 0 else len(buffer))
            if cr >= 0:
                if cr + 1 == len(buffer) and not final:
                    break  # a CR last: the LF of a CRLF may be in the next read
                end, after = cr, cr + 2 if buffer[cr + 1 : cr + 2] == b"\n" else cr + 1
            elif lf >= 0:
                end, after = lf, lf + 1
            else:
                break
            if self.line_ending is None:
                self.line_ending = buffer[end:after].decode("ascii")
            out.append(buffer[start:end].decode("utf-8", "replace"))
            start = after
        del buffer[:start]
        if (final and buffer) or len(buffer) > MAX_LINE:
            out.append(buffer.decode("utf-8", "replace"))
            buffer.clear()
        return out


class SseFrames(_Lines):
    """Server-Sent Events as the standard reads them: `field: value` lines, a blank
    line ending an event; a `:` line is a comment (its own frame, in order)."""

    def __init__(self) -> None:
        super().__init__()
        self._clear()

    def _clear(self) -> None:
        self.data: list[str] = []
        self.event: str | None = None
        self.id: str | None = None
        self.retry: int | None = None
        self.started = False

    def feed(self, chunk: bytes) -> list[Frame]:
        return self._read(self.lines(chunk))

    def end(self) -> list[Frame]:
        frames = self._read(self.lines(b"", final=True))
        return frames + ([self._dispatch()] if self.started else [])

    def _read(self, lines: list[str]) -> list[Frame]:
        frames: list[Frame] = []
        for line in lines:
            if not line:
                if self.started:
                    frames.append(self._dispatch())
                continue
            if line.startswith(":"):
                text = line[1:]
                frames.append(Frame(comment=text[1:] if text.startswith(" ") else text))
                continue
            name, colon, value = line.partition(":")
            if colon and value.startswith(" "):
                value = value[1:]
            self.started = True
            if name == "data":
                self.data.append(value)
            elif name == "event":
                self.event = value
            elif name == "id":
                self.id = value
            elif name == "retry" and value.isdigit():
                self.retry = int(value)
        return frames

    def _dispatch(self) -> Frame:
        frame = Frame(
            data="\n".join(self.data) if self.data else None,
            event=self.event,
            id=self.id,
            retry=self.retry,
        )
        self._clear()
        return frame


class NdjsonFrames(_Lines):
    """Newline-delimited JSON: each non-blank line a frame."""

    def feed(self, chunk: bytes) -> list[Frame]:
        return [Frame(data=line, line=True) for line in self.lines(chunk) if line.strip()]

    def end(self) -> list[Frame]:
        return [Frame(data=line, line=True) for line in self.lines(b"", final=True) if line.strip()]
