"""Slow and idle clients are dropped after the client timeout; the server serves on."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from helpers import MESSAGES, openai_client
from mockserver import MockServer


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(time_scale=0, client_timeout=0.5) as running:
        yield running


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(did the server close the connection within `seconds`, what it sent)."""
    sock.settimeout(seconds)
    received = b""
    try:
        while piece := sock.recv(4096):
            received += piece
        return True, received
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        return True, received


def drip(sock: socket.socket, data: bytes, seconds: float) -> None:
    """Send `data` a byte every 50 ms for at most `seconds` (or until the server hangs up)."""
    started = time.monotonic()
    try:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
            if time.monotonic() - started > seconds:
                return
    except (BrokenPipeError, ConnectionResetError):
        return


def test_a_client_that_says_nothing_is_dropped(server: MockServer) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        closed, _ = closed_within(sock, 3)
    assert closed and 0.4 < time.monotonic() - started < 2.5


def test_headers_sent_byte_by_byte_are_cut_off(server: MockServer) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        drip(sock, head, 1.5)  # until the server hangs up, or 1.5 s
        closed, _ = closed_within(sock, 3)
    assert closed and time.monotonic() - started < 4


def test_a_body_that_never_finishes_gets_a_408(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"model":'
        )
        closed, received = closed_within(sock, 3)
    assert closed and received.startswith(b"HTTP/1.1 408")
    assert b'"code":"timeout"' in received


def test_still_serving(server: MockServer) -> None:
    reply = openai_client(server).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content
