"""The native API in-process: resolve, download, thumbnails, progress events, info, health."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mediadl_fixtures.server import FixtureSite

BASE = "http://mediadl.test"
KEY = "0b6f3c1e-8a55-4d5e-9d0e-0c1a2b3c4d5e"


def sse(text: str) -> list[tuple[str, Any]]:
    """``(event, data)`` pairs of a Server-Sent Events body."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if "data" in fields:
            events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


async def test_resolve_a_video_lists_real_choices(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/resolve", json={"url": site.pages["hls"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["title"].startswith("Fixture HLS")
    assert body["is_playlist"] is False and body["entries"] is None
    qualities = [v["quality"] for v in body["choices"]["video"]]
    assert qualities == [1080, 720, 360]
    assert {a["format"] for a in body["choices"]["audio"]} == {"best", "mp3", "m4a", "opus"}
    assert body["thumbnail"].startswith(f"{BASE}/api/v1/thumbnail?t=")


async def test_resolve_a_post_lists_entries_and_an_item_resolves_alone(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/resolve", json={"url": site.pages["post"]})
    body = r.json()
    assert body["is_playlist"] is True and body["choices"] is None
    assert [e["index"] for e in body["entries"]] == [1, 2]
    assert all(e["thumbnail"].startswith(f"{BASE}/api/v1/thumbnail") for e in body["entries"])
    r = await client.post("/api/v1/resolve", json={"url": site.pages["post"], "item": 2})
    assert r.status_code == 200
    assert r.json()["item"] == 2 and r.json()["choices"]["video"]
    r = await client.post("/api/v1/resolve", json={"url": site.pages["post"], "item": 3})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "content.unavailable")


async def test_resolve_a_feed_entry_resolves_on_demand(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/resolve", json={"url": site.pages["feed"], "item": 3})
    assert r.status_code == 200, r.text
    assert r.json()["is_playlist"] is False


async def test_thumbnail_comes_through_the_server(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/resolve", json={"url": site.pages["video"]})
    thumb = await client.get(r.json()["thumbnail"])
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content == site.media["thumb"].read_bytes()
    token = r.json()["thumbnail"].split("t=", 1)[1]
    forged = await client.get(f"/api/v1/thumbnail?t={token[:-3]}abc")
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "tunnel.invalid")


async def test_download_answers_a_tunnel_and_what_it_sends(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/download", json={"url": site.pages["video"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "passthrough" and body["kind"] == "video"
    assert body["filename"].endswith(".mp4") and body["ext"] == "mp4"
    assert body["tunnel"].startswith(f"{BASE}/api/v1/tunnel?t=")
    assert body["events"].startswith(f"{BASE}/api/v1/tunnel/events?t=")
    r = await client.post(
        "/api/v1/download", json={"url": site.pages["hls"], "quality": 720, "container": "mkv"}
    )
    assert (r.json()["mode"], r.json()["ext"]) == ("remux", "mkv")
    r = await client.post("/api/v1/download", json={"url": site.pages["audio"], "audio": "mp3"})
    assert (r.json()["mode"], r.json()["kind"]) == ("transcode", "audio")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "x", "quality": "high"}, "quality"),
        ({"url": "x", "container": "avi"}, "container"),
        ({"url": "x", "audio_bitrate": 1000}, "audio_bitrate"),
        ({"url": "x", "surprise": 1}, "surprise"),
        ({}, "url"),
    ],
)
async def test_download_refuses_bad_bodies(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/api/v1/download", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "request.invalid"
    assert r.json()["error"]["context"]["field"] == field


async def test_resolve_events_report_progress_then_the_result(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.get("/api/v1/resolve/events", params={"url": site.pages["dash"]})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    assert events[0] == ("progress", {"stage": "resolve", "elapsed": 0.0})
    assert events[-1][0] == "result"
    assert events[-1][1]["title"].startswith("Fixture DASH")


async def test_resolve_events_end_with_an_error(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.get("/api/v1/resolve/events", params={"url": site.url("/pages/missing.html")})
    assert r.status_code == 200
    event, data = sse(r.text)[-1]
    assert event == "error"
    assert data["error"]["code"] == "content.unavailable"
    assert data["error"]["message"].endswith(".")


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"url": "not a link"}, 400, "link.invalid", None),
        ({"url": "mailto:a@b.c"}, 400, "link.unsupported", None),
        ({"url": "http://127.0.0.1:9/", "item": "6 "}, 422, "request.invalid", "item"),
        ({"url": "http://127.0.0.1:9/", "item": "+6"}, 422, "request.invalid", "item"),
        ({"url": "http://127.0.0.1:9/", "item": "0"}, 422, "request.invalid", "item"),
    ],
)
async def test_resolve_events_refuse_a_bad_request_before_any_event(
    client: httpx.AsyncClient, params: dict[str, str], status: int, code: str, field: str | None
) -> None:
    """What can be told from the request alone is a JSON error, not a stream that reports it."""
    r = await client.get("/api/v1/resolve/events", params=params)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"].get("context", {}).get("field") == field


async def test_tunnel_events_follow_a_download(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/download", json={"url": site.pages["hls"], "quality": 360})
    links = r.json()
    listener = asyncio.create_task(client.get(links["events"]))
    await asyncio.sleep(0.2)
    file = await client.get(links["tunnel"])
    assert file.status_code == 200
    events = sse((await asyncio.wait_for(listener, 30)).text)
    stages = [e for e, _ in events]
    assert stages[0] == "waiting" and stages[-1] == "done"
    order = ["waiting", "resolve", "mux", "start", "progress", "done"]
    ranks = [order.index(stage) for stage in stages]  # states coalesce, never go back
    assert ranks == sorted(ranks)
    assert events[-1][1]["sent"] == len(file.content)


async def test_info_health_and_openapi(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/v1/info")).json()
    assert info["qualities"][0] == 2160 and "mp3" in info["audio_formats"]
    health = (await client.get("/healthz")).json()
    assert health["status"] == "ok" and isinstance(health["warm"], bool)
    spec = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/resolve", "/api/v1/download", "/api/v1/tunnel", "/", "/healthz"):
        assert path in spec["paths"], path
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_warm_up_finishes_soon_after_start(client: httpx.AsyncClient) -> None:
    for _ in range(100):
        if (await client.get("/healthz")).json()["warm"]:
            return
        await asyncio.sleep(0.1)
    pytest.fail("the extractors never got warm")


async def test_api_keys_when_required(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
) -> None:
    app = make_app(api_keys=[KEY], api_key_required=True)
    async with app.router.lifespan_context(app), client_for(app) as client:
        url = {"url": site.pages["video"]}
        r = await client.post("/api/v1/resolve", json=url)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "auth.missing")
        bad = {"Authorization": "Api-Key 11111111-2222-3333-4444-555555555555"}
        r = await client.post("/api/v1/resolve", json=url, headers=bad)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "auth.invalid")
        r = await client.post(
            "/api/v1/resolve", json=url, headers={"Authorization": f"Api-Key {KEY}"}
        )
        assert r.status_code == 200
        r = await client.get("/api/v1/resolve/events", params=url)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "auth.missing")
        r = await client.get("/api/v1/resolve/events", params={**url, "key": KEY})
        assert (r.status_code, sse(r.text)[-1][0]) == (200, "result")
