"""What ``psq serve`` answers before the app sees a request (:mod:`api.http_server`),
over a raw socket to a real server process: an address too long is a French JSON 414
(uvicorn's was an English plain-text 400), and a client sending its headers a byte at a
time is cut off after ``PSQ_HEADER_TIMEOUT_SECONDS`` with a 408 (it held the
connection forever)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from api.cluster import free_port
from api.config import PROJECT_ROOT

#: The head's deadline the server under test is given (seconds).
TIMEOUT = 1.5


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, int]]:
    """``psq serve`` (one process) over the tests' database, with a short deadline for
    the request heads: its host and port, once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PSQ_WORKERS": "1",
        "PSQ_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "psq.cli", "serve", "--no-demo", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "psq serve stopped"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health/live", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "psq serve did not start"
            time.sleep(0.3)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


def _answer(connection: socket.socket) -> tuple[str, dict[str, str], dict[str, str]]:
    """The status line, headers and JSON body of the one answer the server sends before
    it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body.decode("utf-8"))


def test_an_address_too_long_is_a_french_json_414(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as connection:
        # in one packet (h11 bounds only a head still incomplete)
        connection.sendall(
            b"GET /api/health/live?q=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        status, headers, body = _answer(connection)
    assert status == "HTTP/1.1 414 URI Too Long"
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert body["code"] == "http_url_too_long" and body["type"] == "RequestUrlTooLong"
    assert body["detail"].startswith("adresse (URL) trop longue : plus de 16\u202f384 octets")
    # headers too large are a 431; a request within the bounds is served as before
    with socket.create_connection(server, timeout=10) as connection:
        connection.sendall(
            b"GET /api/health/live HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 20_000 + b"\r\n\r\n"
        )
        status, _, body = _answer(connection)
    assert status.startswith("HTTP/1.1 431") and body["code"] == "http_header_too_large"
    live = httpx.get(f"http://{server[0]}:{server[1]}/api/health/live?q={'a' * 8000}")
    assert live.status_code == 200


def test_a_slow_header_sender_is_cut_off_after_the_timeout(server: tuple[str, int]) -> None:
    started = time.monotonic()
    with socket.create_connection(server, timeout=10) as connection:
        # a byte every 0.3 s: each byte used to restart nothing, and nothing ended it
        sent = b""
        for byte in b"GET /api/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100:
            try:
                connection.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += bytes([byte])
            connection.settimeout(0.3)
            try:
                first = connection.recv(65536)
            except TimeoutError:
                continue
            finally:
                connection.settimeout(10)
            break
        else:
            pytest.fail("the server never cut the slow client off")
        cut_after = time.monotonic() - started
        received = first
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout")
    answer = json.loads(body)
    assert answer["code"] == "http_header_timeout"
    assert answer["detail"] == (
        "en-têtes de la requête non reçus en 1,5 s : connexion fermée ; réessayez"
    )
    # cut at the deadline, not when the head would have ended
    assert cut_after >= TIMEOUT and len(sent) < 40 + 100
