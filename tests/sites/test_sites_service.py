"""Sites of mediadl's own through the service: a short link in, the video's bytes out, and a
site's own error answered in the one error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mediadl.service import create_app
from mediadl.settings import Settings
from mediadl.sites.kwai import KwaiIE, KwaiShortIE
from mediadl.sites.sharechat import ShareChatIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.kwai import CAPTION
from mediadl_fixtures.server import FixtureSite
from support.sites import replica_engine

BASE = "http://mediadl.test"


@pytest.fixture
async def client(settings: Settings, replicas: ReplicaSite) -> AsyncIterator[httpx.AsyncClient]:
    service = Settings.model_validate({**settings.model_dump(), "secret": "s" * 32})
    engine = replica_engine(service, replicas, ShareChatIE, KwaiIE, KwaiShortIE)
    app: FastAPI = create_app(service, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=60) as client:
            yield client


async def test_a_short_link_downloads_through_the_server(
    client: httpx.AsyncClient, replicas: ReplicaSite, site: FixtureSite
) -> None:
    url = replicas.url("s.kw.ai", "/p/zL3z89CB")
    r = await client.post("/api/v1/resolve", json={"url": url})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == CAPTION
    r = await client.post("/api/v1/download", json={"url": url})
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "passthrough"
    file = await client.get(r.json()["tunnel"])
    assert file.status_code == 200
    assert file.content == site.media["progressive"].read_bytes()


async def test_a_picture_post_is_answered_in_the_error_shape(
    client: httpx.AsyncClient, replicas: ReplicaSite
) -> None:
    r = await client.post(
        "/api/v1/resolve", json={"url": replicas.url("sharechat.com", "/post/PicPost")}
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "content.no_media"
    assert "picture" in r.json()["error"]["message"]
