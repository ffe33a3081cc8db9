"""Tunnels share one pool of kept-alive connections to the site, under the egress guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from mediadl import errors
from mediadl.engine.fetch import SharedPool, progressive
from mediadl.engine.fetch.client import HttpClient
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

from .conftest import open_client

TUNNELS = 6


@pytest.fixture
async def pooled(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """A server whose tunnels borrow from its shared pool (``tunnel_pool``)."""
    app = make_app(tunnel_pool=True)
    async with app.router.lifespan_context(app), open_client(app) as client:
        yield client


async def tunnel_for(client: httpx.AsyncClient, url: str, **choice: object) -> str:
    r = await client.post("/api/v1/download", json={"url": url, **choice})
    assert r.status_code == 200, r.text
    return str(r.json()["tunnel"])


async def test_tunnels_one_after_another_reuse_one_connection(
    pooled: httpx.AsyncClient, site: FixtureSite
) -> None:
    client = pooled
    tunnel = await tunnel_for(client, site.pages["mp3"], audio="best")
    original = site.media["audio_mp3"].read_bytes()
    site.reset_counters()
    for _ in range(TUNNELS):
        r = await client.get(tunnel)
        assert (r.status_code, r.content) == (200, original)
    assert site.stats.requests_total >= TUNNELS  # each tunnel asked the site for its bytes
    assert site.stats.connections_opened < TUNNELS


async def test_tunnels_in_ranges_reuse_the_sites_connections(
    pooled: httpx.AsyncClient, site: FixtureSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progressive, "ASSUMED_RATE", 1 << 20)  # the 3 MB file: in ranges
    client = pooled
    tunnel = await tunnel_for(client, site.url("video", rate=8_000_000))
    original = site.media["progressive"].read_bytes()
    site.reset_counters()
    for _ in range(TUNNELS):
        r = await client.get(tunnel)
        assert (r.status_code, r.content) == (200, original)
    # each tunnel asks in ranges (two or more); a range cut short (the first, at its first
    # piece) closes its connection, the others go back to the pool for the next ones
    assert site.stats.requests_total >= 2 * TUNNELS
    assert site.stats.connections_opened < site.stats.requests_total


async def _read(pool: SharedPool, settings: Settings, url: str) -> bytes:
    async with HttpClient(settings, shared_host_cap=False, pool=pool) as client:
        return await client.read_small(url, {}, limit=1 << 24)


async def test_the_pool_keeps_only_so_many_idle_connections(
    settings: Settings, site: FixtureSite
) -> None:
    url, original = site.url("audio_mp3"), site.media["audio_mp3"].read_bytes()
    pool = SharedPool(settings, idle_per_host=1)
    try:
        first = await asyncio.gather(*(_read(pool, settings, url) for _ in range(4)))
        opened = site.stats.connections_opened
        second = await asyncio.gather(*(_read(pool, settings, url) for _ in range(4)))
    finally:
        await pool.aclose()
    assert first == second == [original] * 4
    assert opened == 4
    assert site.stats.connections_opened - opened == 3  # one kept, three closed


async def test_a_pooled_request_to_a_refused_address_is_refused(
    settings: Settings, site: FixtureSite
) -> None:
    pool = SharedPool(settings)
    try:
        assert await _read(pool, settings, site.url("audio_mp3"))  # the pool holds a connection
        refused = site.url("audio_mp3").replace(site.host, "127.0.0.3", 1)
        with pytest.raises(errors.LinkForbidden):
            await _read(pool, settings, refused)
    finally:
        await pool.aclose()
    assert site.stats.connections_opened == 1


def test_a_pooled_client_takes_no_network_of_its_own(settings: Settings) -> None:
    with pytest.raises(ValueError, match="pool"):
        HttpClient(settings, pool=SharedPool(settings))  # the shared host cap: not for streams
