"""The cobalt contract, from cobalt's public API docs (API 11): requests, shapes, codes, CORS."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mediadl_fixtures.server import FixtureSite

JSON = {"Accept": "application/json", "Content-Type": "application/json"}
ORIGIN = "https://cobalt.example"
KEY = "0b6f3c1e-8a55-4d5e-9d0e-0c1a2b3c4d5e"


async def post(client: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    return await client.post("/", content=json.dumps(body), headers={**JSON, **headers})


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert body["status"] == "error", body
    assert set(body) == {"status", "error"}
    return str(body["error"]["code"])


async def test_server_info_for_api_clients(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"Accept": "*/*", "Origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["access-control-allow-origin"] == "*"
    info = r.json()["cobalt"]
    assert set(info) == {"version", "url", "startTime", "services"}, "no turnstileSitekey"
    assert info["url"] == "http://mediadl.test/"
    assert info["startTime"].isdigit() and info["services"]
    assert set(r.json()["git"]) == {"commit", "branch"}, "no remote the operator didn't give"


async def test_server_info_shows_the_source_the_operator_names(
    make_app: Callable[..., FastAPI], client_for: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    source = "https://code.example.org/mediadl"
    app = make_app(source_url=source)
    async with app.router.lifespan_context(app), client_for(app) as client:
        r = await client.get("/", headers={"Accept": "*/*", "Origin": ORIGIN})
    assert r.status_code == 200
    assert r.json()["git"]["remote"] == source


async def test_browsers_get_the_page(client: httpx.AsyncClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = await client.get("/", headers={"Accept": accept})
    assert r.headers["content-type"].startswith("text/html")
    assert "Accept" in r.headers["vary"]
    r = await client.get("/", headers={"Accept": "application/json"})
    assert r.headers["content-type"] == "application/json"


async def test_tunnel_for_a_720p_video(client: httpx.AsyncClient, site: FixtureSite) -> None:
    r = await post(client, {"url": site.pages["hls"], "videoQuality": "720"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"status", "url", "filename"}
    assert body["status"] == "tunnel"
    assert body["filename"] == "Fixture HLS (TS) (1) (720p).mp4"
    assert "?" in body["url"], "the probe appends &p=1"
    probe = await client.get(body["url"] + "&p=1", headers={"Origin": ORIGIN})
    assert probe.status_code == 200
    assert probe.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("options", "filename"),
    [
        ({"filenameStyle": "classic"}, "127.0.0.2_hls-1_720p.mp4"),
        ({"filenameStyle": "pretty"}, "Fixture HLS (TS) (1) (720p, 127.0.0.2).mp4"),
        ({"filenameStyle": "nerdy"}, "Fixture HLS (TS) (1) (720p, 127.0.0.2, hls-1).mp4"),
        ({"downloadMode": "mute"}, "Fixture HLS (TS) (1) (720p, mute).mp4"),
        ({"downloadMode": "audio"}, "Fixture HLS (TS) (1).mp3"),
        ({"downloadMode": "audio", "audioFormat": "best"}, "Fixture HLS (TS) (1).m4a"),
        ({"youtubeVideoContainer": "mkv"}, "Fixture HLS (TS) (1) (720p).mkv"),
    ],
)
async def test_filename_styles_and_modes(
    client: httpx.AsyncClient, site: FixtureSite, options: dict[str, str], filename: str
) -> None:
    r = await post(client, {"url": site.pages["hls"], "videoQuality": "720", **options})
    assert r.json()["filename"] == filename


async def test_picker_for_a_post_with_two_videos(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await post(client, {"url": site.pages["post"]})
    body = r.json()
    assert body["status"] == "picker"
    assert len(body["picker"]) == 2
    for item in body["picker"]:
        assert item["type"] == "video"
        assert set(item) <= {"type", "url", "thumb"}
        assert (await client.get(item["url"] + "&p=1")).status_code == 200
    first = await client.get(body["picker"][0]["url"])
    assert first.status_code == 200 and first.content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "https://example.com/v", "unknown": 1}, "error.api.invalid_body"),
        ({"url": "https://example.com/v", "videoQuality": 720}, "error.api.invalid_body"),
        ({"url": "https://example.com/v", "videoQuality": "721"}, "error.api.invalid_body"),
        ({"url": "https://example.com/v", "audioFormat": "aac"}, "error.api.invalid_body"),
        ({"url": "https://example.com/v", "disableMetadata": "yes"}, "error.api.invalid_body"),
        ({"url": "https://example.com/v", "subtitleLang": "e"}, "error.api.invalid_body"),
        ({"url": "https://example.com/v", "youtubeDubLang": "en us"}, "error.api.invalid_body"),
        ({"videoQuality": "720"}, "error.api.link.missing"),
        ({"url": ""}, "error.api.link.missing"),
        ([1, 2], "error.api.invalid_body"),
        ({"url": "not a link"}, "error.api.link.invalid"),
        ({"url": "0"}, "error.api.link.invalid"),
        ({"url": "https://example.com/a b"}, "error.api.link.invalid"),
        ({"url": "ftp://example.com/file"}, "error.api.service.unsupported"),
    ],
)
async def test_request_validation(client: httpx.AsyncClient, body: Any, code: str) -> None:
    r = await post(client, body)
    assert r.status_code == 400
    assert error_code(r) == code


async def test_defaults_and_old_boolean_local_processing_are_accepted(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    body = {
        "url": site.pages["video"],
        "videoQuality": "1080",
        "audioFormat": "mp3",
        "audioBitrate": "128",
        "downloadMode": "auto",
        "filenameStyle": "basic",
        "youtubeVideoCodec": "h264",
        "youtubeVideoContainer": "auto",
        "youtubeDubLang": "en",
        "subtitleLang": "en",
        "localProcessing": True,
        "disableMetadata": False,
        "allowH265": False,
        "convertGif": True,
        "tiktokFullAudio": False,
        "alwaysProxy": False,
        "youtubeHLS": False,
        "youtubeBetterAudio": False,
    }
    r = await post(client, body)
    assert r.json()["status"] == "tunnel"


async def test_headers_and_body_limit(client: httpx.AsyncClient, site: FixtureSite) -> None:
    body = json.dumps({"url": site.pages["video"]})
    r = await client.post("/", content=body, headers={"Content-Type": "application/json"})
    assert error_code(r) == "error.api.header.accept"
    r = await client.post("/", content=body, headers={"Accept": "application/json"})
    assert error_code(r) == "error.api.header.content_type"
    r = await client.post("/", content="{not json", headers=JSON)
    assert error_code(r) == "error.api.invalid_body"
    big = {"url": site.pages["video"], "subtitleLang": "en", "pad": "x" * 1100}
    r = await post(client, big)
    assert (r.status_code, error_code(r)) == (400, "error.api.invalid_body")


async def test_the_schema_says_json_must_be_accepted(client: httpx.AsyncClient) -> None:
    """cobalt answers only clients that accept JSON; the OpenAPI document says so."""
    operation = (await client.get("/openapi.json")).json()["paths"]["/"]["post"]
    accept = next(p for p in operation["parameters"] if p["name"] == "Accept")
    assert (accept["in"], accept["required"]) == ("header", True)
    assert accept["schema"]["enum"] == ["application/json", "application/json; charset=utf-8"]
    body = json.dumps({"url": "0"})
    for value in ("*/*", "text/html"):
        headers = {"Accept": value, "Content-Type": "application/json"}
        r = await client.post("/", content=body, headers=headers)
        assert (r.status_code, error_code(r)) == (400, "error.api.header.accept")


@pytest.mark.parametrize(
    ("page", "code"),
    [
        ("nomedia", "error.api.fetch.empty"),
        ("/pages/missing.html", "error.api.content.video.unavailable"),
    ],
)
async def test_content_errors(
    client: httpx.AsyncClient, site: FixtureSite, page: str, code: str
) -> None:
    url = site.pages.get(page) or site.url(page)
    r = await post(client, {"url": url})
    assert (r.status_code, error_code(r)) == (400, code)


async def test_cors_preflight_as_cobalts_web_client_sends_it(client: httpx.AsyncClient) -> None:
    r = await client.options(
        "/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed


async def test_tunnel_exposes_size_and_disposition(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    url = (await post(client, {"url": site.pages["dash"], "videoQuality": "360"})).json()["url"]
    r = await client.get(url, headers={"Origin": ORIGIN})
    exposed = r.headers["access-control-expose-headers"].lower()
    for header in ("content-disposition", "estimated-content-length", "content-length"):
        assert header in exposed
    assert int(r.headers["estimated-content-length"]) == pytest.approx(len(r.content), rel=0.2)


async def test_api_keys(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
) -> None:
    body = {"url": site.pages["video"]}
    optional = make_app(api_keys=[KEY])
    async with optional.router.lifespan_context(optional), client_for(optional) as client:
        assert (await post(client, body)).json()["status"] == "tunnel"
        good = await post(client, body, Authorization=f"Api-Key {KEY}")
        assert good.json()["status"] == "tunnel"
        wrong = await post(
            client, body, Authorization="Api-Key 11111111-2222-3333-4444-555555555555"
        )
        assert error_code(wrong) == "error.api.auth.key.not_found"
        junk = await post(client, body, Authorization="Api-Key nope")
        assert error_code(junk) == "error.api.auth.key.invalid"
    required = make_app(api_keys=[KEY], api_key_required=True)
    async with required.router.lifespan_context(required), client_for(required) as client:
        assert error_code(await post(client, body)) == "error.api.auth.key.missing"
        bearer = await post(client, body, Authorization="Bearer abc")
        assert error_code(bearer) == "error.api.auth.key.not_api_key"
        good = await post(client, body, Authorization=f"Api-Key {KEY}")
        assert good.json()["status"] == "tunnel"


async def test_redirect_when_the_server_allows_it(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
) -> None:
    app = make_app(cobalt_redirect=True)
    async with app.router.lifespan_context(app), client_for(app) as client:
        r = await post(client, {"url": site.pages["video"]})
        assert r.json() == {
            "status": "redirect",
            "url": site.url("progressive"),
            "filename": r.json()["filename"],
        }
        proxied = await post(client, {"url": site.pages["video"], "alwaysProxy": True})
        assert proxied.json()["status"] == "tunnel"
        remuxed = await post(client, {"url": site.pages["hls"]})
        assert remuxed.json()["status"] == "tunnel"
