"""Long-lived connections are bounded, against a real ``mediadl serve``: progress streams per
client, idle progress streams, unfinished request heads, connections per client, and a server
started with few descriptors."""

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
from support.procs import eventually
from support.server import Server, serving

SECRET = "connections-secret-0123456789abcdef"
GUARD = 30.0
"""Socket timeout: only a guard against a test that would hang, never a measured figure."""
EVENT_STREAMS = 3
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
        "MEDIADL_MAX_EVENT_STREAMS_PER_CLIENT": str(EVENT_STREAMS),
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


def refused_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def first_line(stream: httpx.Response, kept: list[Iterator[str]]) -> str:
    """The stream's first line; its reader is kept in ``kept``: a reader dropped unfinished
    closes its connection, which is a client leaving."""
    kept.append(stream.iter_lines())
    return next(kept[-1])


def test_progress_streams_per_client_are_capped(server: Server) -> None:
    with ExitStack() as stack:
        mine, readers = stack.enter_context(client()), []
        for n in range(EVENT_STREAMS):
            stream = stack.enter_context(open_stream(mine, events_link(server, f"a{n}")))
            assert stream.status_code == 200
            assert first_line(stream, readers).startswith("event: waiting")
        refused = mine.get(events_link(server, "a-more"))
        assert refused_code(refused) == (429, "rate.events")
        refused = mine.get(f"{server.base}/api/v1/resolve/events?url=https://example.com/x")
        assert refused_code(refused) == (429, "rate.events")
        assert healthy(server)
        other = stack.enter_context(client(OTHER))
        theirs = stack.enter_context(open_stream(other, events_link(server, "b")))
        assert theirs.status_code == 200


def open_all(server: Server, name: str) -> list[int]:
    """Opens as many progress streams as one client may hold, at once (each on its own
    connection, closed when done): their statuses."""
    with ExitStack() as stack:
        codes, readers = [], []
        for n in range(EVENT_STREAMS):
            mine = stack.enter_context(client())
            stream = stack.enter_context(open_stream(mine, events_link(server, f"{name}{n}")))
            codes.append(stream.status_code)
            if stream.status_code == 200:
                assert first_line(stream, readers).startswith("event: waiting")
        return codes


def test_progress_streams_of_a_client_that_left_are_given_back(server: Server) -> None:
    """Open as many as allowed, leave (close the connections), open as many again, three times:
    each time every one is answered; then one more than allowed at once is refused."""
    for round_ in range(3):
        everyone = [200] * EVENT_STREAMS
        assert eventually(lambda: open_all(server, f"r{round_}-") == everyone)  # noqa: B023
    with ExitStack() as stack:
        for n in range(EVENT_STREAMS):
            mine = stack.enter_context(client())
            stream = stack.enter_context(open_stream(mine, events_link(server, f"s{n}")))
            assert stream.status_code == 200
        one_more = stack.enter_context(client())
        assert refused_code(one_more.get(events_link(server, "s-more"))) == (429, "rate.events")


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
    """At 256 descriptors, one address opens 300 connections that never send a head and as
    many progress streams as it can: the server closes what is past its caps and keeps
    answering everyone else."""
    env = {
        "MEDIADL_SECRET": SECRET,
        "MEDIADL_MAX_CONNECTIONS_PER_CLIENT": "32",
        "MEDIADL_MAX_EVENT_STREAMS_PER_CLIENT": "8",
        "MEDIADL_REQUEST_HEAD_TIMEOUT": "600",
    }
    program = ("prlimit", "--nofile=128:256", sys.executable, "-m", "mediadl")
    with serving(tmp_path, "greedy", env=env, program=program) as server, ExitStack() as stack:
        assert "open-file limit: 256 (raised from 128)" in server.log.read_text()
        codes = []
        for n in range(12):  # one connection each; a refused one is closed at once
            greedy = stack.enter_context(client())
            stream = stack.enter_context(open_stream(greedy, events_link(server, f"g{n}")))
            codes.append(stream.status_code)
            if stream.status_code == 429:
                stream.read()
                greedy.close()
        assert codes == [200] * 8 + [429] * 4
        assert healthy(server)
        idle = [stack.enter_context(connect(server)) for _ in range(300)]
        assert healthy(server)
        held = 32 - 8  # what the greedy address has left of its connections
        assert all(read_to_eof(sock) == b"" for sock in idle[held:])
        assert not any(select.select([sock], [], [], 0)[0] for sock in idle[:held])
        assert healthy(server)
