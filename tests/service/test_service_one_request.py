"""A passthrough tunnel of a small file asks the site once; a larger one still splits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from mediadl.engine.fetch import progressive
from mediadl_fixtures.server import FixtureSite

from .conftest import open_client

PATH = "/media/progressive.mp4"


@pytest.fixture(params=[False, True], ids=["own connections", "shared pool"])
async def server(
    request: pytest.FixtureRequest, make_app: Callable[..., FastAPI]
) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(tunnel_pool=request.param)
    async with app.router.lifespan_context(app), open_client(app) as client:
        yield client


async def tunnel_for(client: httpx.AsyncClient, url: str) -> str:
    r = await client.post("/api/v1/download", json={"url": url})
    assert r.status_code == 200, r.text
    return str(r.json()["tunnel"])


def asked(site: FixtureSite) -> list[str | None]:
    return [record.range for record in site.stats.log if record.path == PATH]


async def test_a_small_file_is_one_request_to_the_site(
    server: httpx.AsyncClient, site: FixtureSite
) -> None:
    tunnel = await tunnel_for(server, site.pages["video"])
    original = site.media["progressive"].read_bytes()
    site.reset_counters()
    r = await server.get(tunnel)
    assert (r.status_code, r.content) == (200, original)
    assert asked(site) == ["bytes=0-"]
    half = len(original) // 2
    site.reset_counters()
    r = await server.get(tunnel, headers={"Range": f"bytes={half}-"})
    assert (r.status_code, r.content) == (206, original[half:])
    assert asked(site) == [f"bytes={half}-"]


async def test_a_site_that_ignores_ranges_is_one_request(
    server: httpx.AsyncClient, site: FixtureSite
) -> None:
    tunnel = await tunnel_for(server, site.url("video", norange=1))
    original = site.media["progressive"].read_bytes()
    site.reset_counters()
    r = await server.get(tunnel)
    assert (r.status_code, r.content) == (200, original)
    assert len(asked(site)) == 1 and site.stats.statuses == {200: 1}


async def test_a_file_worth_more_connections_still_gets_them(
    server: httpx.AsyncClient, site: FixtureSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progressive, "ASSUMED_RATE", 1 << 20)  # 3 MB: worth two and more
    tunnel = await tunnel_for(server, site.url("video", rate=8_000_000))
    original = site.media["progressive"].read_bytes()
    site.reset_counters()
    r = await server.get(tunnel)
    assert (r.status_code, r.content) == (200, original)
    ranges = asked(site)
    assert ranges[0] == "bytes=0-" and len(ranges) >= 2
