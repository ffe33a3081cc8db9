"""Tests of the offline fixture site (fixtures/mediadl_fixtures): real server, real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import shlex
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import av
import pytest
import yt_dlp
from yt_dlp.aes import aes_cbc_decrypt_bytes

from mediadl_fixtures import (
    ASSETS,
    EMBEDDED_PLAYERS,
    PAGES,
    UNICODE_TITLE,
    FixtureSite,
    Knobs,
    MediaSet,
    Recipe,
    ensure_media,
    expected_formats,
    probe,
    running_site,
)
from mediadl_fixtures import media as media_module
from mediadl_fixtures.http import UNSATISFIABLE, parse_range
from mediadl_fixtures.plan import build_plan, cache_key

# -- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media() -> MediaSet:
    return ensure_media()


@pytest.fixture(scope="session")
def site(media: MediaSet) -> Iterator[FixtureSite]:
    with running_site(media=media) as s:
        yield s


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as s:
        yield s


def _conn(site: FixtureSite) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(site.host, site.port, timeout=30)


def _get(
    site: FixtureSite, url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = _conn(site)
    try:
        conn.request(method, urlsplit(url).path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


# -- generation -----------------------------------------------------------------------


def test_every_asset_exists(media: MediaSet) -> None:
    for name, path in media.files.items():
        assert path.is_file() and path.stat().st_size > 0, name
    last = media.recipe.duration // media.recipe.segment - 1
    assert (media.site_dir / "hls" / "v1080" / f"seg_{last:03d}.ts").is_file()
    assert len(media.segments("hls_plain")) == media.recipe.extras_duration // 2


def test_cached_generation_is_reused(media: MediaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    def build(*_args: object) -> None:
        raise AssertionError("the cached media was generated again")

    monkeypatch.setattr(media_module, "_build", build)
    again = ensure_media()
    assert again.root == media.root


def test_cache_key_follows_recipe() -> None:
    a, b = Recipe(), Recipe(duration=30)
    assert cache_key(a, build_plan(a), "f") == cache_key(Recipe(), build_plan(Recipe()), "f")
    assert cache_key(a, build_plan(a), "f") != cache_key(b, build_plan(b), "f")
    assert cache_key(a, build_plan(a), "f") != cache_key(a, build_plan(a), "g")


@pytest.mark.slow
def test_concurrent_generation_is_safe(tmp_path: Path) -> None:
    """Two processes generating the same (tiny) recipe: both succeed, one cache entry."""
    code = "from mediadl_fixtures import *; print(ensure_media(Recipe.tiny(), %r).root)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code % str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    roots = {p.communicate(timeout=240)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(roots) == 1
    entries = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert [p.name for p in entries] == [Path(next(iter(roots))).name]


# -- media really decodes -------------------------------------------------------------


def test_progressive_decodes(media: MediaSet) -> None:
    info = probe(media.files["progressive"])
    assert abs(info.duration - 60) < 0.1
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.height, info.audio.codec) == ("h264", 360, "aac")
    with av.open(str(media.files["progressive"])) as c:
        frames = sum(1 for _ in c.decode(video=0))
    assert frames == 60 * media.recipe.fps


@pytest.mark.parametrize(("name", "codec"), [("audio_m4a", "aac"), ("audio_mp3", "mp3")])
def test_audio_decodes(media: MediaSet, name: str, codec: str) -> None:
    info = probe(media.files[name])
    assert info.video is None and info.audio is not None
    assert info.audio.codec.startswith(codec)
    assert abs(info.duration - 60) < 0.1


def test_thumbnail_is_a_jpeg(media: MediaSet) -> None:
    data = media.files["thumb"].read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    with av.open(str(media.files["thumb"])) as c:
        frame = next(iter(c.decode(video=0)))
    assert (frame.width, frame.height) == (640, 360)


@pytest.mark.parametrize(("name", "seconds"), [("clip1", 6), ("clip2", 8), ("clip3", 10)])
def test_clips_have_distinct_durations(media: MediaSet, name: str, seconds: int) -> None:
    assert abs(probe(media.files[name]).duration - seconds) < 0.1


@pytest.mark.parametrize("top", ["hls", "hls-fmp4"])
def test_hls_variants_decode(media: MediaSet, tmp_path: Path, top: str) -> None:
    for spec in media.recipe.hls:
        folder = media.site_dir / top / f"v{spec.height}"
        segs = media.segments(f"/{top}/v{spec.height}/index.m3u8")
        assert len(segs) == media.recipe.duration // 2 >= 10
        assert all(s.duration == 2.0 for s in segs)
        data = (folder / segs[3].uri).read_bytes()
        if top == "hls-fmp4":
            data = (folder / "init.mp4").read_bytes() + data
        sample = tmp_path / f"{spec.height}.{'mp4' if top == 'hls-fmp4' else 'ts'}"
        sample.write_bytes(data)
        with av.open(str(sample)) as c:
            frames = list(c.decode(video=0))
        assert frames[0].height == spec.height
        assert len(frames) == 2 * media.recipe.fps


def test_dash_representations_decode(media: MediaSet, tmp_path: Path) -> None:
    folder = media.site_dir / "dash"
    for rep, spec in enumerate(media.recipe.dash):
        data = (folder / f"init-stream{rep}.m4s").read_bytes()
        data += (folder / f"chunk-stream{rep}-00002.m4s").read_bytes()
        (tmp_path / "x.mp4").write_bytes(data)
        with av.open(str(tmp_path / "x.mp4")) as c:
            frames = list(c.decode(video=0))
        assert frames[0].height == spec.height
    mpd = (folder / "manifest.mpd").read_text()
    assert "SegmentTemplate" in mpd and "SegmentTimeline" not in mpd
    assert 'contentType="audio"' in mpd
    assert "SegmentTimeline" in media.file("dash_timeline_mpd").read_text()


def test_hls_master_playlists(media: MediaSet) -> None:
    for name in ("hls_master", "hls_fmp4_master"):
        text = media.file(name).read_text()
        assert text.count("#EXT-X-STREAM-INF:") == len(media.recipe.hls)
        assert 'TYPE=AUDIO,GROUP-ID="aud"' in text
        for spec in media.recipe.hls:
            assert f"RESOLUTION={spec.width}x{spec.height}" in text
        assert 'CODECS="avc1.' in text and "BANDWIDTH=" in text
        assert "http" not in text and "\n/" not in text  # only relative URIs
    assert '#EXT-X-MAP:URI="init.mp4"' in media.file("/hls-fmp4/v360/index.m3u8").read_text()


def test_aes_segments_decrypt_to_plain(media: MediaSet) -> None:
    plain = media.segment_bytes("hls_plain")
    explicit = media.segment_bytes("hls_aes")
    implicit = media.segment_bytes("hls_aes_noiv")
    assert "IV=0x" in media.file("hls_aes").read_text()
    noiv_text = media.file("hls_aes_noiv").read_text()
    assert "IV=" not in noiv_text and noiv_text.count("#EXT-X-KEY") == 1
    assert "#EXT-X-MEDIA-SEQUENCE:5" in noiv_text
    for i in (0, 3):
        head = aes_cbc_decrypt_bytes(explicit[i][:2048], media.aes_key, media.aes_iv)
        assert head == plain[i][:2048]
        iv = (5 + i).to_bytes(16, "big")
        assert aes_cbc_decrypt_bytes(implicit[i][:2048], media.aes_key, iv) == plain[i][:2048]
    assert media.file("hls_aes_key").read_bytes() == media.aes_key


def test_byterange_and_discontinuity(media: MediaSet) -> None:
    assert "#EXT-X-BYTERANGE:" in media.file("hls_byterange").read_text()
    assert media.segment_bytes("hls_byterange") == media.segment_bytes("hls_plain")
    segs = media.segments("hls_discontinuity")
    assert [s.discontinuity for s in segs] == [False] * 3 + [True, False, False]
    assert media.segment_bytes("hls_discontinuity")[:3] == media.segment_bytes("hls_plain")[:3]


# -- HTTP semantics -------------------------------------------------------------------


def test_parse_range_edge_cases() -> None:
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=-500", 100) == (0, 99)
    assert parse_range("bytes=50-500", 100) == (50, 99)
    assert parse_range("bytes=100-", 100) == UNSATISFIABLE
    assert parse_range("bytes=-0", 100) == UNSATISFIABLE
    assert parse_range("bytes=9-0", 100) is None
    assert parse_range("bytes=0-1,5-6", 100) is None
    assert parse_range("items=0-1", 100) is None


def test_head(site: FixtureSite) -> None:
    resp, body = _get(site, site.url("progressive"), method="HEAD")
    size = site.media["progressive"].stat().st_size
    assert resp.status == 200 and body == b""
    assert resp.getheader("Content-Length") == str(size)
    assert resp.getheader("Accept-Ranges") == "bytes"
    assert resp.getheader("Content-Type") == "video/mp4"
    assert resp.getheader("ETag") and resp.getheader("Last-Modified")


def test_ranges(site: FixtureSite) -> None:
    data = site.media["progressive"].read_bytes()
    resp, body = _get(site, site.url("progressive"), {"Range": "bytes=1000-1999"})
    assert resp.status == 206 and body == data[1000:2000]
    assert resp.getheader("Content-Range") == f"bytes 1000-1999/{len(data)}"
    resp, body = _get(site, site.url("progressive"), {"Range": "bytes=-100"})
    assert resp.status == 206 and body == data[-100:]
    resp, body = _get(site, site.url("progressive"), {"Range": f"bytes={len(data)}-"})
    assert resp.status == 416 and body == b""
    assert resp.getheader("Content-Range") == f"bytes */{len(data)}"


def test_etag_if_range_and_conditionals(site: FixtureSite) -> None:
    data = site.media["thumb"].read_bytes()
    head, _ = _get(site, site.url("thumb"), method="HEAD")
    etag, modified = head.getheader("ETag"), head.getheader("Last-Modified")
    assert etag and modified
    resp, body = _get(site, site.url("thumb"), {"Range": "bytes=10-19", "If-Range": etag})
    assert resp.status == 206 and body == data[10:20]
    resp, body = _get(site, site.url("thumb"), {"Range": "bytes=10-19", "If-Range": modified})
    assert resp.status == 206
    resp, body = _get(site, site.url("thumb"), {"Range": "bytes=10-19", "If-Range": '"other"'})
    assert resp.status == 200 and body == data
    resp, body = _get(site, site.url("thumb"), {"If-None-Match": etag})
    assert resp.status == 304 and body == b""
    resp, _ = _get(site, site.url("thumb"), {"If-Modified-Since": modified})
    assert resp.status == 304


def test_keep_alive_and_stats(site: FixtureSite) -> None:
    site.reset_counters()
    conn = _conn(site)
    try:
        for _ in range(5):
            conn.request("GET", urlsplit(site.url("hls_master")).path)
            resp = conn.getresponse()
            assert resp.status == 200 and resp.getheader("Connection") == "keep-alive"
            resp.read()
    finally:
        conn.close()
    stats = site.stats.snapshot()
    assert stats.connections_opened == 1
    assert stats.requests["/hls/master.m3u8"] == 5
    assert stats.bytes_sent == 5 * site.media["hls_master"].stat().st_size


def test_errors(site: FixtureSite) -> None:
    assert _get(site, site.url("/no/such/file.mp4"))[0].status == 404
    assert _get(site, site.url("/media/../media/thumb.jpg"))[0].status == 404
    assert _get(site, site.url("thumb"), method="POST")[0].status == 405
    resp, body = _get(site, site.base_url + "/k/bogus=1/media/thumb.jpg")
    assert resp.status == 400 and b"bogus" in body


async def test_parallel_ranges(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    data = site.media["progressive"].read_bytes()
    step = len(data) // 8 + 1

    async def part(i: int) -> bytes:
        headers = {"Range": f"bytes={i * step}-{min(len(data), (i + 1) * step) - 1}"}
        async with session.get(site.url("progressive"), headers=headers) as r:
            assert r.status == 206
            return await r.read()

    parts = await asyncio.gather(*(part(i) for i in range(8)))
    assert b"".join(parts) == data


# -- knobs ----------------------------------------------------------------------------


def test_knob_prefix_round_trip() -> None:
    k = Knobs.of(latency=50, rate=2_500_000, missing=["a.ts", "b.ts"], norange=True)
    assert k.prefix() == "/k/latency=50,rate=2500000,norange=1,missing=a.ts,missing=b.ts"
    assert Knobs.parse(k.encode()) == k


async def test_latency(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    t0 = time.monotonic()
    async with session.get(site.url("thumb", latency=300)) as r:
        await r.read()
    assert time.monotonic() - t0 >= 0.29  # a floor the knob promises; load only adds to it


async def test_rate(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    t0 = time.monotonic()
    async with session.get(
        site.url("progressive", rate=1_000_000), headers={"Range": "bytes=0-799999"}
    ) as r:
        assert len(await r.read()) == 800_000
    assert time.monotonic() - t0 >= 0.65


async def test_total_rate(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    async def fetch(start: int) -> int:
        headers = {"Range": f"bytes={start}-{start + 399_999}"}
        async with session.get(site.url("progressive", total_rate=1_000_000), headers=headers) as r:
            return len(await r.read())

    t0 = time.monotonic()
    assert list(await asyncio.gather(fetch(0), fetch(1_000_000))) == [400_000, 400_000]
    assert time.monotonic() - t0 >= 0.65


async def test_server_wide_defaults(media: MediaSet, session: aiohttp.ClientSession) -> None:
    async with FixtureSite(latency=500, rate=2_000_000, media=media) as own:
        t0 = time.monotonic()
        async with session.get(own.url("progressive"), headers={"Range": "bytes=0-999999"}) as r:
            assert len(await r.read()) == 1_000_000
        assert time.monotonic() - t0 >= 0.9


async def test_a_knob_overrides_the_server_wide_default(
    media: MediaSet, session: aiohttp.ClientSession
) -> None:
    """``latency=0`` answers while a request under the site's hour-long latency still waits."""
    async with FixtureSite(latency=3_600_000, media=media) as own:
        waiting = asyncio.ensure_future(_read(session, own.url("thumb")))
        quick = await _read(session, own.url("thumb", latency=0))
        assert quick == media.files["thumb"].read_bytes()
        assert not waiting.done()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting


async def test_drop(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    url = site.url("progressive", drop=100_000, dropfirst=1)
    async with session.get(url) as r:
        assert r.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await r.read()
    async with session.get(url) as r:  # the second try is not dropped
        assert await r.read() == site.media["progressive"].read_bytes()


def test_drop_sends_exactly_n_bytes(site: FixtureSite) -> None:
    conn = _conn(site)
    try:
        conn.request("GET", urlsplit(site.url("progressive", drop=12345)).path)
        resp = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert len(info.value.partial) == 12345
    finally:
        conn.close()


async def test_fail_then_succeed(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    site.reset_counters()
    url = site.url("thumb", fail=2)
    seen = []
    for _ in range(3):
        async with session.get(url) as r:
            seen.append(r.status)
            if r.status == 503:
                assert r.headers["Retry-After"] == "0"
            await r.read()
    assert seen == [503, 503, 200]
    async with session.get(site.url("thumb", fail=1, failcode=429)) as r:
        assert r.status == 429
    site.reset_counters()
    async with session.get(url) as r:
        assert r.status == 503


async def test_stall(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    """The first try stalls (an hour here); the second, sent meanwhile, comes whole at once."""
    url = site.url("thumb", stall=1000, stallsecs=3600, stallfirst=1)
    site.reset_counters()
    stalled = asyncio.ensure_future(_read(session, url))
    while not site.stats.requests["/media/thumb.jpg"]:
        await asyncio.sleep(0.01)  # the first try has its answer's head: it is the stalled one
    assert await _read(session, url) == site.media["thumb"].read_bytes()
    assert not stalled.done()
    stalled.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stalled


async def _read(session: aiohttp.ClientSession, url: str) -> bytes:
    async with session.get(url) as r:
        return await r.read()


async def test_stall_times_out_a_client(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    timeout = aiohttp.ClientTimeout(sock_read=0.3)
    async with session.get(site.url("thumb", stall=100), timeout=timeout) as r:
        with pytest.raises(asyncio.TimeoutError):
            await r.read()


async def test_norange(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    async with session.get(site.url("thumb", norange=1), headers={"Range": "bytes=0-9"}) as r:
        assert r.status == 200 and "Accept-Ranges" not in r.headers
        assert await r.read() == site.media["thumb"].read_bytes()


async def test_maxrange(site: FixtureSite, session: aiohttp.ClientSession) -> None:
    data = site.media["thumb"].read_bytes()
    async with session.get(site.url("thumb", maxrange=100), headers={"Range": "bytes=10-"}) as r:
        assert r.status == 206
        assert r.headers["Content-Range"] == f"bytes 10-109/{len(data)}"
        assert await r.read() == data[10:110]


def test_badlength(site: FixtureSite) -> None:
    data = site.media["thumb"].read_bytes()
    conn = _conn(site)
    try:
        conn.request("GET", urlsplit(site.url("thumb", badlength=500)).path)
        resp = conn.getresponse()
        assert resp.getheader("Content-Length") == str(len(data) + 500)
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert info.value.partial == data
    finally:
        conn.close()
    resp, body = _get(site, site.url("thumb", badlength=-500))
    assert resp.status == 200 and body == data[:-500]


async def test_missing_and_relative_urls_keep_knobs(
    site: FixtureSite, session: aiohttp.ClientSession
) -> None:
    playlist_url = site.url("hls_plain", missing="seg_001.ts")
    async with session.get(playlist_url) as r:
        text = await r.text()
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    statuses = []
    for uri in uris[:3]:
        async with session.get(urljoin(playlist_url, uri)) as r:
            statuses.append(r.status)
            await r.read()
    assert statuses == [200, 404, 200]


# -- yt-dlp's generic extractor recognises every page ---------------------------------


def _extract(url: str) -> dict[str, Any]:
    with yt_dlp.YoutubeDL({"quiet": True, "no_warnings": True}) as ydl:
        info = ydl.extract_info(url, download=False)
    assert isinstance(info, dict)
    return info


def _format_count(info: dict[str, Any]) -> int:
    return len(info["formats"]) if info.get("formats") else int("url" in info)


@pytest.mark.parametrize("name", [n for n, p in PAGES.items() if p.entries == 1])
def test_single_video_pages(site: FixtureSite, name: str) -> None:
    info = _extract(site.pages[name])
    assert info.get("_type", "video") == "video"
    assert _format_count(info) == expected_formats(name, site.recipe)
    assert info["thumbnail"] == site.url("thumb")


def test_page_details(site: FixtureSite) -> None:
    assert _extract(site.pages["unicode"])["title"].startswith(UNICODE_TITLE)
    jsonld = _extract(site.pages["jsonld"])
    assert (jsonld["duration"], jsonld["upload_date"]) == (60, "20240501")
    hls = _extract(site.pages["hls"])
    heights = sorted(f["height"] for f in hls["formats"] if f.get("height"))
    assert heights == [s.height for s in sorted(site.recipe.hls)]
    dash = _extract(site.pages["dash"])
    assert any(f.get("acodec", "none") != "none" for f in dash["formats"])


@pytest.mark.parametrize("name", [n for n, p in PAGES.items() if p.entries > 1 and not p.elsewhere])
def test_playlist_pages(site: FixtureSite, name: str) -> None:
    info = _extract(site.pages[name])
    assert info["_type"] == "playlist"
    entries = list(info["entries"])
    assert len(entries) == PAGES[name].entries
    urls = {e.get("url") or e["formats"][0]["url"] for e in entries}
    assert len(urls) == len(entries)


def test_the_players_a_page_embeds_are_found_and_not_followed(site: FixtureSite) -> None:
    with yt_dlp.YoutubeDL({"quiet": True, "extract_flat": "in_playlist"}) as ydl:
        info = ydl.extract_info(site.pages["embeds"], download=False)
    assert info["_type"] == "playlist"
    found = sorted(e["url"].split("#")[0] for e in info["entries"])
    assert found == sorted(EMBEDDED_PLAYERS)
    assert len(found) == PAGES["embeds"].entries


@pytest.mark.parametrize("name", [n for n, p in PAGES.items() if p.entries == 0])
def test_pages_without_media(site: FixtureSite, name: str) -> None:
    with pytest.raises(yt_dlp.utils.DownloadError, match="Unsupported URL"):
        _extract(site.pages[name])


def test_page_knobs_reach_media(site: FixtureSite) -> None:
    info = _extract(site.url("hls", latency=1))
    assert all("/k/latency=1/" in f["url"] for f in info["formats"])
    feed = _extract(site.url("feed", latency=1))
    assert all("/k/latency=1/" in e["url"] for e in feed["entries"])


def test_catalog_names_are_served(site: FixtureSite) -> None:
    for name in (*ASSETS, *PAGES):
        resp, _ = _get(site, site.url(name), method="HEAD")
        assert resp.status == 200, name


# -- command line ---------------------------------------------------------------------


def _serves_until_interrupted(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    """Starts the fixture site's command, fetches a page from it, stops it with Ctrl-C."""
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base = ""
        for line in proc.stdout:
            if line.startswith("serving "):
                base = line.split()[1].rstrip("/")
                break
        assert base.startswith("http://127.0.0.2:")
        host, port = urlsplit(base).hostname, urlsplit(base).port
        conn = http.client.HTTPConnection(host or "", port or 0, timeout=10)
        try:
            conn.request("GET", "/pages/video.html")
            assert conn.getresponse().status == 200
        finally:
            conn.close()
    finally:
        proc.send_signal(2)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_cli_serves_until_interrupted(media: MediaSet, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "MEDIADL_FIXTURES_CACHE": str(media.root.parent),
    }
    _serves_until_interrupted(
        [sys.executable, "-m", "mediadl_fixtures", "--port", "0"], env, tmp_path
    )


def _make_recipe(target: str) -> list[str]:
    lines = (Path(__file__).resolve().parent.parent / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_make_fixtures_command_starts_the_site_from_its_own_distribution(
    media: MediaSet, tmp_path: Path
) -> None:
    """`make fixtures` runs the console script of the mediadl-fixtures distribution, which the
    development install provides (the product doesn't): it serves with no help from sys.path
    or the working directory."""
    (command,) = _make_recipe("fixtures")
    argv = shlex.split(command.replace("$(BIN)", str(Path(sys.executable).parent)))
    assert argv[-2:] == ["--port", "8800"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MEDIADL_FIXTURES_CACHE"] = str(media.root.parent)
    _serves_until_interrupted([*argv[:-1], "0"], env, tmp_path)
    assert metadata.packages_distributions()["mediadl_fixtures"] == ["mediadl-fixtures"]
