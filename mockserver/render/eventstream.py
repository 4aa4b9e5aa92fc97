"""AWS event-stream framing (`application/vnd.amazon.eventstream`), both ways: each
message a prelude (total and header lengths, big-endian, and their CRC32), headers
(strings here), a payload, and a CRC32 of everything before it. What SSE is to most
APIs, this is to Bedrock (render/bedrock.py)."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from .reading import Frame


def frame(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """One event-stream message: prelude, its CRC, string headers, payload, message CRC."""
    encoded = b"".join(
        bytes([len(name)]) + name + b"\x07" + struct.pack(">H", len(value)) + value
        for name, value in ((n.encode(), v.encode()) for n, v in headers)
    )
    prelude = struct.pack(">II", 16 + len(encoded) + len(payload), len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_frame(event: str, payload: Any) -> bytes:
    data = json.dumps(payload, separators=(",", ":")).encode()
    return frame(
        [(":event-type", event), (":content-type", "application/json"), (":message-type", "event")], data
    )


class EventStreamFrames:
    """Event-stream bytes, however cut, back into frames (recording, `show`): each
    frame's `event` is its event or exception type, `data` its payload, `headers` all."""

    line_ending: str | None = None

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Frame]:
        self.buffer += chunk
        frames = []
        while len(self.buffer) >= 12:
            total, header_length = struct.unpack(">II", self.buffer[:8])
            if total < 16 or len(self.buffer) < total:
                break
            message = bytes(self.buffer[:total])
            del self.buffer[:total]
            headers = _headers(message[12 : 12 + header_length])
            named = dict(headers)
            kind = named.get(":event-type") or named.get(":exception-type") or named.get(":error-code")
            payload = message[12 + header_length : total - 4].decode("utf-8", "replace")
            frames.append(Frame(data=payload, event=kind, headers=tuple(headers)))
        return frames

    def end(self) -> list[Frame]:
        return []  # a frame cut short is dropped, as botocore drops it


def _headers(data: bytes) -> list[tuple[str, str]]:
    """String (and bool) headers; other kinds are skipped with their bytes."""
    headers, at = [], 0
    sizes = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
    while at < len(data):
        length = data[at]
        name = data[at + 1 : at + 1 + length].decode("utf-8", "replace")
        kind = data[at + 1 + length]
        at += 2 + length
        if kind in (6, 7):
            (size,) = struct.unpack(">H", data[at : at + 2])
            headers.append((name, data[at + 2 : at + 2 + size].decode("utf-8", "replace")))
            at += 2 + size
        elif kind in (0, 1):
            headers.append((name, "true" if kind == 0 else "false"))
        else:
            at += sizes.get(kind, len(data))
    return headers
