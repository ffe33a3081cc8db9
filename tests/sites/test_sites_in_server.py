"""mediadl's own extractors in the server: handed to its extraction processes like yt-dlp's."""

from __future__ import annotations

import pickle

import httpx

from mediadl.engine import Engine
from mediadl.service import create_app
from mediadl.settings import Settings
from mediadl.sites.ifunny import IfunnyIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.server import FixtureSite


def test_a_pointed_extractor_survives_the_trip_to_an_extraction_process() -> None:
    pointed = IfunnyIE.pointed_at("http://127.0.0.2:9")
    again = pickle.loads(pickle.dumps(pointed))
    assert again is pointed
    assert again.suitable("http://127.0.0.2:9/ifunny.co/video/xRQEhCDw9")
    assert not IfunnyIE.suitable("http://127.0.0.2:9/ifunny.co/video/xRQEhCDw9")


async def test_the_server_reads_and_delivers_a_site_of_its_own(
    settings: Settings, replicas: ReplicaSite, site: FixtureSite
) -> None:
    served = Settings.model_validate({**settings.model_dump(), "secret": "s" * 32})
    engine = Engine(served, [IfunnyIE.pointed_at(replicas.base_url)])
    app = create_app(served, engine=engine)
    url = replicas.url("ifunny.co", "/video/hacking-printer-xRQEhCDw9?s=cl")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://mediadl.test") as client,
    ):
        resolved = await client.post("/api/v1/resolve", json={"url": url})
        assert resolved.status_code == 200, resolved.text
        body = resolved.json()
        assert (body["title"], body["uploader"]) == ("hacking printer - iFunny", "printerguy")
        download = await client.post("/api/v1/download", json={"url": url})
        assert download.status_code == 200, download.text
        tunnel = await client.get(download.json()["tunnel"])
    assert tunnel.status_code == 200
    assert tunnel.content == site.media["progressive"].read_bytes()
