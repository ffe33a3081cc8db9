"""The hostile-input suite's world: a canary (internal service), a hostile site, a real server.

The server under test is a real ``mediadl serve`` process that allows only 127.0.0.2/32 (the
fixture site and the hostile site); the canary on 127.0.0.3 plays every internal service. Bounds
are set small so that each bomb trips them quickly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediadl.service.tokens import Signer
from mediadl_fixtures.hostile import Canary, HostileSite, running_hostile
from mediadl_fixtures.server import FixtureSite
from support.server import Server, launching
from support.server import start_server as support_start_server

SECRET = "security-secret-0123456789abcdef"
API_KEY = "0b7c1c62-6a46-4bd8-9f3e-2d1e0a3c5f11"
BOUNDS = {
    "MEDIADL_ALLOW_NETWORKS": "127.0.0.2/32",
    "MEDIADL_MAX_PAGE_SIZE": str(512 * 1024),
    "MEDIADL_MAX_FRAGMENTS": "1000",
    "MEDIADL_EXTRACT_TIMEOUT": "5",
    "MEDIADL_EXTRACT_MEMORY": str(512 << 20),
    "MEDIADL_READ_TIMEOUT": "3",
    "MEDIADL_CONNECT_TIMEOUT": "3",
    "MEDIADL_FETCH_RETRIES": "1",
    "MEDIADL_RATE_LIMIT": "100000/minute",
    "MEDIADL_RATE_LIMIT_MEDIA": "100000/minute",
    "MEDIADL_RESOLVE_CACHE_TTL": "0",
}


def start_server(tmp: Path, name: str, **env: str) -> Server:
    """``mediadl serve`` with the suite's bounds (``env`` on top), ready for requests."""
    environ = {"MEDIADL_SECRET": SECRET, "MEDIADL_API_KEYS": API_KEY, **BOUNDS, **env}
    return support_start_server(tmp, name, env=environ, args=())


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    running = Canary()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def hostile(canary: Canary, site: FixtureSite) -> Iterator[HostileSite]:
    with running_hostile(canary, site.base_url) as running:
        yield running


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("security"), "guarded")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server of the test's own (the suite's bounds, ``env`` on top); stopped after."""
    started: list[Server] = []

    def start(name: str, **env: str) -> Server:
        started.append(start_server(tmp_path, name, **env))
        return started[-1]

    try:
        yield start
    finally:
        for running in started:
            running.stop()


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=60) as client:
        yield client


@pytest.fixture
def untouched(canary: Canary) -> Iterator[Canary]:
    """The canary, checked after the test: no connection reached it."""
    before = canary.connections
    yield canary
    assert canary.connections == before, "the internal service was connected to"


def error_code(response: httpx.Response) -> Any:
    """The error code of an answer in either face's shape."""
    body = response.json()
    return body["error"]["code"] if "error" in body and "code" in body["error"] else body


class Expect:
    """What a refused answer must look like (``expect.refused(response, code, status)``)."""

    def __init__(self, canary: Canary) -> None:
        self.canary = canary

    def refused(self, response: httpx.Response, code: str, status: int) -> None:
        """The answer is the error ``code``/``status``, and nothing of the canary is in it."""
        assert self.canary.marker not in response.text
        assert all(self.canary.marker not in v for v in response.headers.values())
        got = (response.status_code, error_code(response))
        assert got == (status, code), response.text[:500]

    @staticmethod
    def code(response: httpx.Response) -> Any:
        return error_code(response)


@pytest.fixture
def expect(untouched: Canary) -> Expect:
    """Checks answers; the canary must see no connection during the test."""
    return Expect(untouched)


@pytest.fixture
def signer() -> Signer:
    """Signs tunnels like the server under test (same secret)."""
    return Signer(SECRET.encode())


@pytest.fixture
def server_base(server: Server) -> str:
    return server.base


@pytest.fixture
def server_log(server: Server) -> Path:
    return server.log


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``launch("name", MEDIADL_X="…")``: more real servers, all stopped at the end."""
    with launching(functools.partial(start_server, tmp_path)) as start:
        yield start
