"""Slow clients past the first guard: every request head and body, first or later,
admin or API, gets the client timeout (0.5 s here), not aiohttp's 75 s."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from test_slow_clients import closed_within, drip

from mockserver import MockServer

TIMEOUT = 0.5


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(time_scale=0, client_timeout=TIMEOUT) as running:
        yield running


def test_an_admin_body_that_drips_gets_a_408(server: MockServer) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /_mock/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\n"
            b"Content-Length: 500\r\n\r\n"
        )
        drip(sock, b"name: slow\nstream: [{text: x}]\n" * 10, 1.5)
        closed, received = closed_within(sock, 3)
    assert received.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
    del closed  # the server may keep the connection to read what is left


@pytest.mark.parametrize("route", ["PUT /_mock/chaos", "POST /_mock/chaos/next", "POST /_mock/pause"])
def test_an_admin_body_that_goes_silent_gets_a_408(server: MockServer, route: str) -> None:
    """The console's routes too: every admin body gets the client timeout."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            route.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"rate":'
        )
        _, received = closed_within(sock, 3)
    assert received.startswith(b"HTTP/1.1 408")


def test_blank_lines_before_the_request_line_do_not_stop_the_clock(server: MockServer) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"\r\n\r\n")  # allowed before a request line, and it ends in a "head end"
        drip(sock, b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", 2)
        closed, _ = closed_within(sock, 3)
    assert closed and time.monotonic() - started < 3


def test_a_slow_second_request_on_a_kept_alive_connection_is_cut_off(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(3)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT * 2)  # idle between requests: that is keep-alive's, and allowed
        started = time.monotonic()
        drip(sock, b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890\r\n", 2)
        closed, received = closed_within(sock, 3)
    assert closed and received == b"" and time.monotonic() - started < 3


def test_a_quick_second_request_is_served(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(3)
        for _ in range(3):
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(TIMEOUT * 1.5)  # idle longer than the head timeout, between requests
