"""Many remux tunnels at once whose clients hang up at every moment of the start (the server still
connecting to the site, ffmpeg starting, its output being wired to the event loop): the others
still get every byte, and the server lives on. A real ``mediadl serve`` on its default event loop
(uvloop), whose descriptor handling such leaving used to break: another tunnel's connection closed
under it, or the whole server aborted by libuv."""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mediadl_fixtures import FixtureSite, ensure_media
from support.server import FIXTURE_NETWORK, Server, serving

pytestmark = pytest.mark.slow

CLIENTS = 64
"""Tunnels at once: the server's default ``max_streams``."""
ROUNDS = 4
LEAVING = 0.75
"""The share of clients that leave: each leaving is a chance to hit the moment that mattered."""
LEAVE_WITHIN = 0.3
"""Leaving clients hang up at a random moment within this many seconds: while their remux is
still starting."""
GUARD = 120.0
"""Only stops a test that would hang; no duration is asserted."""


@pytest.fixture
def site_apart() -> Iterator[FixtureSite]:
    """The fixture site in a process of its own: at full speed, apart from this one's clients."""
    host = FIXTURE_NETWORK.split("/")[0]
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
    site = FixtureSite(host=host, port=port, media=ensure_media())
    command = [sys.executable, "-m", "mediadl_fixtures", "--host", host, "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(site.url("thumb"), timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield site
    finally:
        proc.terminate()
        proc.wait(10)


async def _pull(client: httpx.AsyncClient, url: str, leave_after: float | None) -> str | None:
    """The body's SHA-256, or ``None`` for a client that hung up after ``leave_after`` s."""
    digest = hashlib.sha256()

    async def read() -> str:
        async with client.stream("GET", url) as r:
            assert r.status_code == 200, await r.aread()
            async for chunk in r.aiter_raw():
                digest.update(chunk)
        return digest.hexdigest()

    if leave_after is None:
        return await asyncio.wait_for(read(), GUARD)
    try:
        return await asyncio.wait_for(read(), leave_after)  # quicker than its client's patience
    except TimeoutError:
        return None


def _leave_after(rng: random.Random) -> float | None:
    """When one client hangs up; ``None``: it stays for the whole file."""
    return rng.uniform(0, LEAVE_WITHIN) if rng.random() < LEAVING else None


async def _storm(url: str, rng: random.Random) -> list[str | None]:
    plan = [_leave_after(rng) for _ in range(CLIENTS)]
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=GUARD, limits=limits) as client:
        return await asyncio.gather(*(_pull(client, url, leave) for leave in plan))


def _sha256(url: str) -> str:
    with httpx.stream("GET", url, timeout=GUARD) as r:
        assert r.status_code == 200, r.read()
        return hashlib.sha256(r.read()).hexdigest()


def _log(server: Server) -> str:
    return server.log.read_text(errors="replace")[-3000:]


def test_clients_leaving_during_the_start_break_no_other_tunnel(
    tmp_path: Path, site_apart: FixtureSite
) -> None:
    limits = {
        "MEDIADL_MAX_STREAMS_PER_CLIENT": str(CLIENTS),
        "MEDIADL_MAX_CONNECTIONS_PER_CLIENT": str(4 * CLIENTS),
        "MEDIADL_RATE_LIMIT": "10000/minute",
        "MEDIADL_RATE_LIMIT_MEDIA": "10000/minute",
        "MEDIADL_SECRET": "storm-secret-0123456789abcdef",
    }
    args = ("--allow-network", FIXTURE_NETWORK, "--log-level", "warning")
    with serving(tmp_path, "storm", env=limits, args=args) as server:
        answer = httpx.post(
            f"{server.base}/api/v1/download",
            json={"url": site_apart.pages["dash"], "quality": 720},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        tunnel = answer.json()["tunnel"]
        wanted = _sha256(tunnel)
        rng = random.Random(1)

        for _ in range(ROUNDS):
            digests = asyncio.run(_storm(tunnel, rng))

            assert server.proc.poll() is None, _log(server)
            whole = [d for d in digests if d is not None]
            assert whole == [wanted] * len(whole), _log(server)
        assert _sha256(tunnel) == wanted  # the server still makes the same file afterwards
        assert httpx.get(f"{server.base}/healthz", timeout=30).status_code == 200
        assert server.proc.poll() is None
