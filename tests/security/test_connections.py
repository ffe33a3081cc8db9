"""Long-lived connections are bounded, against a real ``mediadl serve``: idle progress streams,
unfinished request heads, connections per client, and a server started with few descriptors."""

from __future__ import annotations

import select
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mediadl.models import Choice
from mediadl.service.tokens import Signer
from support.server import Server, serving

SECRET = "connections-secret-0123456789abcdef"
GUARD = 30.0
"""Socket timeout: only a guard against a test that would hang, never a measured figure."""
OTHER = "127.0.0.3"
"""Another client's address (loopback): its requests must still be answered."""


def events_link(server: Server, name: str) -> str:
    token = Signer(SECRET).tunnel(f"https://example.com/{name}", Choice(), item=None, ttl=600)
    return f"{server.base}/api/v1/tunnel/events?t={token}"


def client(address: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(transport=transport, timeout=GUARD)


def healthy(server: Server) -> bool:
    with client(OTHER) as other:
        return other.get(f"{server.base}/healthz").status_code == 200


def connect(server: Server, address: str = "127.0.0.1") -> socket.socket:
    parts = urlsplit(server.base)
    sock = socket.create_connection((parts.hostname, parts.port), GUARD, (address, 0))
    return sock


def read_to_eof(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (``GUARD`` bounds the wait)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "MEDIADL_SECRET": SECRET,
        "MEDIADL_EVENT_STREAM_IDLE": "8",
        "MEDIADL_REQUEST_HEAD_TIMEOUT": "1",
        "MEDIADL_RATE_LIMIT_MEDIA": "1000/minute",
    }
    with serving(tmp_path_factory.mktemp("connections"), "connections", env=env) as running:
        yield running


@contextmanager
def open_stream(http: httpx.Client, url: str) -> Iterator[httpx.Response]:
    with http.stream("GET", url) as response:
        yield response


def test_an_idle_progress_stream_ends(tmp_path: Path) -> None:
    env = {"MEDIADL_SECRET": SECRET, "MEDIADL_EVENT_STREAM_IDLE": "1"}
    with serving(tmp_path, "idle", env=env) as server, client() as mine:
        link = events_link(server, "idle")
        with open_stream(mine, link) as stream:  # ends only because the server ends it
            lines = list(stream.iter_lines())
    events = [line for line in lines if line.startswith("event:")]
    assert events == ["event: waiting"]


def test_an_unfinished_request_head_is_closed(server: Server) -> None:
    with connect(server) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: mediadl\r\nX-Slow: ")
        assert healthy(server)
        assert read_to_eof(slow) == b""


def test_an_unfinished_second_head_is_closed(server: Server) -> None:
    with connect(server) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: mediadl\r\n\r\n")
        first = slow.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        assert b"HTTP/1.1" not in read_to_eof(slow)  # the rest of the first answer, then EOF


def test_few_descriptors_and_a_greedy_client(tmp_path: Path) -> None:
    """At 256 descriptors, one address holds 8 progress streams and opens 300 connections that
    never send a head: the server closes what is past its per-address cap and keeps answering
    everyone else."""
    env = {
        "MEDIADL_SECRET": SECRET,
        "MEDIADL_MAX_CONNECTIONS_PER_CLIENT": "32",
        "MEDIADL_REQUEST_HEAD_TIMEOUT": "600",
    }
    program = ("prlimit", "--nofile=128:256", sys.executable, "-m", "mediadl")
    with serving(tmp_path, "greedy", env=env, program=program) as server, ExitStack() as stack:
        assert "open-file limit: 256 (raised from 128)" in server.log.read_text()
        codes = []
        for n in range(8):  # one connection each, held open
            greedy = stack.enter_context(client())
            stream = stack.enter_context(open_stream(greedy, events_link(server, f"g{n}")))
            codes.append(stream.status_code)
        assert codes == [200] * 8
        assert healthy(server)
        idle = [stack.enter_context(connect(server)) for _ in range(300)]
        assert healthy(server)
        held = 32 - 8  # what the greedy address has left of its connections
        assert all(read_to_eof(sock) == b"" for sock in idle[held:])
        assert not any(select.select([sock], [], [], 0)[0] for sock in idle[:held])
        assert healthy(server)
