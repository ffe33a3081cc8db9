"""What cobalt's own clients meet at ``POST /`` and its tunnels, request by request, as curl would
send them: audio-only sources, WAV, the service in errors, links with spaces around them, media
loadable from a cross-origin-isolated page, file names, and local processing."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from mediadl.engine.ffmpeg import ffmpeg_exe
from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl
from support.media import assert_media

JSON = {"Accept": "application/json", "Content-Type": "application/json"}
ORIGIN = "https://cobalt.example"
HOST = "127.0.0.2"
TITLE = "Fixture video: testsrc2 & a beep (1)"


async def post(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post("/", content=json.dumps(body), headers=JSON)


async def save(client: httpx.AsyncClient, url: str, path: Path) -> httpx.Response:
    r = await client.get(url, headers={"Origin": ORIGIN})
    assert r.status_code == 200, r.text[:300]
    path.write_bytes(r.content)
    return r


# --- 9: an audio-only source is audio in every mode ----------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "mute", "audio"])
async def test_an_audio_only_source_is_served_as_audio_in_every_mode(
    client: httpx.AsyncClient, site: FixtureSite, tmp_path: Path, mode: str
) -> None:
    r = await post(client, {"url": site.pages["mp3"], "downloadMode": mode})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "tunnel"
    assert body["filename"] == "Fixture audio (mp3) (1).mp3", (
        "cobalt's audio name: no quality, no mute"
    )
    await save(client, body["url"], tmp_path / "a.mp3")
    duration = site.recipe.duration
    assert_media(
        tmp_path / "a.mp3",
        container="mp3",
        vcodec=None,
        height=None,
        acodec="mp3",
        duration=duration,
    )


@pytest.mark.parametrize("mode", ["auto", "mute"])
async def test_a_sound_only_item_of_a_post_is_audio_too(
    client: httpx.AsyncClient, site: FixtureSite, tmp_path: Path, mode: str
) -> None:
    """A picker's links are made before its items are read: the sound-only one still comes as
    audio, in the format asked for, and the video beside it as video."""
    r = await post(client, {"url": site.pages["mixed"], "downloadMode": mode, "audioFormat": "mp3"})
    body = r.json()
    assert body["status"] == "picker", body
    video, sound = (item["url"] for item in body["picker"])
    await save(client, sound, tmp_path / "sound.mp3")
    assert_media(
        tmp_path / "sound.mp3",
        container="mp3",
        vcodec=None,
        height=None,
        acodec="mp3",
        duration=site.recipe.duration,
    )
    await save(client, video, tmp_path / "video.mp4")
    assert probe(tmp_path / "video.mp4").video is not None


# --- 10: WAV --------------------------------------------------------------------------------------


async def test_wav_is_pcm_in_a_wav_file(
    client: httpx.AsyncClient, site: FixtureSite, tmp_path: Path
) -> None:
    r = await post(
        client, {"url": site.pages["audio"], "downloadMode": "audio", "audioFormat": "wav"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["filename"]) == ("tunnel", "Fixture audio (m4a) (1).wav")
    got = await save(client, body["url"], tmp_path / "a.wav")
    assert got.headers["content-type"] == "audio/wav"
    assert got.content[:4] == b"RIFF" and got.content[8:12] == b"WAVE"
    duration = site.recipe.duration
    assert_media(
        tmp_path / "a.wav",
        container="wav",
        vcodec=None,
        height=None,
        acodec="pcm_s16le",
        duration=duration,
    )
    estimate = int(got.headers["estimated-content-length"])
    assert estimate == pytest.approx(len(got.content), rel=0.1)


async def test_wav_from_an_audio_only_source_in_auto_mode(
    client: httpx.AsyncClient, site: FixtureSite, tmp_path: Path
) -> None:
    r = await post(client, {"url": site.pages["mp3"], "audioFormat": "wav"})
    body = r.json()
    assert (body["status"], body["filename"]) == ("tunnel", "Fixture audio (mp3) (1).wav")
    await save(client, body["url"], tmp_path / "a.wav")
    assert probe(tmp_path / "a.wav").audio is not None


# --- 11: context.service on every error ----------------------------------------------------------


def closed_port() -> int:
    """A port on the fixture's address where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def test_errors_before_a_page_is_read_name_the_service(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    unreachable = f"http://{HOST}:{closed_port()}/pages/video.html"
    missing = site.url("/pages/missing.html")
    for url, code in (
        (unreachable, "error.api.fetch.fail"),
        (missing, "error.api.content.video.unavailable"),
    ):
        r = await post(client, {"url": url})
        assert r.status_code == 400
        assert r.json()["error"] == {"code": code, "context": {"service": HOST}}, url


def test_service_names_follow_cobalt() -> None:
    from mediadl.service.cobalt_names import service_of_link

    assert service_of_link("https://youtu.be/abc") == "youtube"
    assert service_of_link("https://music.youtube.com/watch?v=1") == "youtube"
    assert service_of_link("https://x.com/a/status/1") == "twitter"
    assert service_of_link("https://bsky.app/profile/a/post/b") == "bluesky"
    assert service_of_link("https://vm.tiktok.com/xyz") == "tiktok"
    assert service_of_link("https://www.example.org/v/1") == "example.org"
    assert service_of_link("https://notyoutube.com/v") == "notyoutube.com"


# --- 12: whitespace around a link ----------------------------------------------------------------


async def test_a_link_with_spaces_around_it_is_the_link_in_every_face(
    client: httpx.AsyncClient, site: FixtureSite, tmp_path: Path
) -> None:
    link = f" {site.pages['video']} \n"
    cobalt = await post(client, {"url": link})
    assert (cobalt.status_code, cobalt.json()["status"]) == (200, "tunnel")
    resolved = await client.post("/api/v1/resolve", json={"url": link})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["title"] == TITLE
    download = await client.post("/api/v1/download", json={"url": link, "quality": 240})
    assert download.status_code == 200, download.text
    assert (await client.get(download.json()["tunnel"])).content[4:8] == b"ftyp"
    async with client.stream("GET", f"/api/v1/resolve/events?url={quote(link)}") as events:
        assert events.status_code == 200
        text = "".join([chunk async for chunk in events.aiter_text()])
    assert "event: result" in text and TITLE in text
    done = run_mediadl("info", "--json", link)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == TITLE


# --- 13: media for a cross-origin-isolated page --------------------------------------------------


async def test_tunnels_and_thumbnails_may_be_loaded_by_an_isolated_page(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    picker = (await post(client, {"url": site.pages["post"]})).json()["picker"]
    thumb = await client.get(picker[0]["thumb"], headers={"Origin": ORIGIN})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["cross-origin-resource-policy"] == "cross-origin"
    probe_answer = await client.get(picker[0]["url"] + "&p=1", headers={"Origin": ORIGIN})
    assert probe_answer.headers["cross-origin-resource-policy"] == "cross-origin"
    passthrough = await client.get(picker[0]["url"], headers={"Origin": ORIGIN})
    assert passthrough.headers["x-mediadl-mode"] == "passthrough"
    assert passthrough.headers["cross-origin-resource-policy"] == "cross-origin"
    remuxed = (await post(client, {"url": site.pages["hls"], "videoQuality": "360"})).json()
    r = await client.get(remuxed["url"], headers={"Origin": ORIGIN})
    assert r.headers["x-mediadl-mode"] == "remux"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"


# --- 14: file names carry the service's name ----------------------------------------------------


@pytest.mark.parametrize(
    ("options", "filename"),
    [
        ({"filenameStyle": "classic"}, f"{HOST}_hls-1_720p.mp4"),
        ({"filenameStyle": "pretty"}, f"Fixture HLS (TS) (1) (720p, {HOST}).mp4"),
        ({"filenameStyle": "nerdy"}, f"Fixture HLS (TS) (1) (720p, {HOST}, hls-1).mp4"),
        ({"filenameStyle": "classic", "downloadMode": "audio"}, f"{HOST}_hls-1_audio.mp3"),
        (
            {"filenameStyle": "pretty", "downloadMode": "audio"},
            f"Fixture HLS (TS) (1) ({HOST}).mp3",
        ),
    ],
)
async def test_file_names_use_the_service_name_not_the_extractor(
    client: httpx.AsyncClient, site: FixtureSite, options: dict[str, str], filename: str
) -> None:
    r = await post(client, {"url": site.pages["hls"], "videoQuality": "720", **options})
    assert r.json()["filename"] == filename
    tunnel = await client.get(r.json()["url"] + "&p=1")
    assert tunnel.status_code == 200


# --- 15: local processing ------------------------------------------------------------------------


async def test_local_processing_hands_the_browser_one_tunnel_per_stream(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
    tmp_path: Path,
) -> None:
    ask = {"url": site.pages["dash"], "videoQuality": "360", "localProcessing": "preferred"}
    app = make_app(cobalt_local_processing=True)
    async with app.router.lifespan_context(app), client_for(app) as client:
        body = (await post(client, ask)).json()
        assert set(body) == {"status", "type", "service", "tunnel", "output"}, body
        assert (body["status"], body["type"], body["service"]) == (
            "local-processing",
            "merge",
            HOST,
        )
        assert body["output"] == {
            "type": "video/mp4",
            "filename": "Fixture DASH (1) (360p).mp4",
            "metadata": {"title": "Fixture DASH (1)"},
        }
        video_url, audio_url = body["tunnel"]
        video = await save(client, video_url, tmp_path / "video.mp4")
        audio = await save(client, audio_url, tmp_path / "audio.m4a")
        for r, kind in ((video, "video/mp4"), (audio, "audio/mp4")):
            assert r.headers["content-type"] == kind
            assert r.headers["access-control-allow-origin"] == "*"
            assert r.headers["x-mediadl-mode"] == "passthrough", "no ffmpeg on the server"
            assert "estimated-content-length" in r.headers["access-control-expose-headers"].lower()
            assert "estimated-content-length" in r.headers or "content-length" in r.headers
        seconds = site.recipe.duration
        assert_media(
            tmp_path / "video.mp4", container="mp4", vcodec="h264", height=360, acodec=None,
            duration=seconds,
        )  # fmt: skip
        assert_media(
            tmp_path / "audio.m4a", container="mp4", vcodec=None, height=None, acodec="aac",
            duration=seconds,
        )  # fmt: skip
        joined = browser_remux(tmp_path, body["output"]["filename"])
        assert_media(
            joined, container="mp4", vcodec="h264", height=360, acodec="aac", duration=seconds
        )
        for other in ({"localProcessing": "disabled"}, {"videoQuality": "360"}):
            r = await post(client, {"url": site.pages["dash"], **other})
            assert r.json()["status"] == "tunnel", other
        single = await post(client, {**ask, "url": site.pages["video"]})
        assert single.json()["status"] == "tunnel", "one file: nothing to join"
        hls = await post(client, {**ask, "url": site.pages["hls"]})
        assert hls.json()["status"] == "tunnel", "HLS pieces are MPEG-TS: joined on the server"


async def test_local_processing_only_where_the_server_allows_it(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
) -> None:
    ask = {"url": site.pages["dash"], "videoQuality": "360", "localProcessing": "preferred"}
    app = make_app(cobalt_local_processing=False)
    async with app.router.lifespan_context(app), client_for(app) as client:
        assert (await post(client, ask)).json()["status"] == "tunnel"


async def test_forced_local_processing_hands_a_single_file_over_as_proxy(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
) -> None:
    """cobalt: ``forced`` answers ``local-processing`` for every non-HLS file, type ``proxy``
    for one passed through, and never a redirect."""
    app = make_app(cobalt_local_processing=True, cobalt_redirect=True)
    async with app.router.lifespan_context(app), client_for(app) as client:
        body = (
            await post(client, {"url": site.pages["video"], "localProcessing": "forced"})
        ).json()
        assert (body["status"], body["type"], body["service"]) == (
            "local-processing",
            "proxy",
            HOST,
        )
        assert body["output"] == {
            "type": "video/mp4",
            "filename": f"{TITLE.replace(':', '_')}.mp4",
            "metadata": {"title": TITLE},
        }
        (tunnel,) = body["tunnel"]
        r = await client.get(tunnel, headers={"Origin": ORIGIN})
        assert r.status_code == 200
        assert r.content == site.media["progressive"].read_bytes()
        hls = await post(client, {"url": site.pages["hls"], "localProcessing": "forced"})
        assert hls.json()["status"] == "tunnel", "HLS is joined on the server, as cobalt does"
        preferred = await post(client, {"url": site.pages["video"], "localProcessing": "preferred"})
        assert preferred.json()["status"] == "redirect", "preferred: nothing to do in the browser"


def browser_remux(folder: Path, filename: str) -> Path:
    """What cobalt's web app does with a ``merge``: audio and video in, ``-c copy`` out."""
    out = folder / filename
    audio, video = folder / "audio.m4a", folder / "video.mp4"
    args = ["-v", "error", "-i", str(audio), "-i", str(video), "-c:v", "copy", "-c:a", "copy"]
    subprocess.run([ffmpeg_exe(), *args, "-y", str(out)], check=True, timeout=60)
    return out
