"""Tunnels in-process: passthrough ranges, signatures, expiry, re-extraction on 403/410."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from mediadl import errors
from mediadl.engine.probe import probe
from mediadl.models import Choice, Format
from mediadl.service.source import Opener, Upstream, open_format
from mediadl.service.tokens import TOKEN_PATTERN, Signer
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

SECRET = b"test-secret-0123456789abcdef"
ClientFor = Callable[[FastAPI], httpx.AsyncClient]


async def tunnel_for(client: httpx.AsyncClient, url: str, **choice: object) -> str:
    r = await client.post("/api/v1/download", json={"url": url, **choice})
    assert r.status_code == 200, r.text
    return str(r.json()["tunnel"])


async def test_passthrough_is_the_sites_file_with_exact_headers(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    tunnel = await tunnel_for(client, site.pages["video"])
    original = site.media["progressive"].read_bytes()
    r = await client.get(tunnel)
    assert r.status_code == 200
    assert r.content == original
    assert r.headers["content-length"] == str(len(original))
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["x-mediadl-mode"] == "passthrough"
    assert r.headers["content-disposition"].startswith('attachment; filename="Fixture video')


async def test_range_resume_gives_the_same_bytes(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    tunnel = await tunnel_for(client, site.pages["video"])
    whole = (await client.get(tunnel)).content
    half = len(whole) // 2
    first = await client.get(tunnel, headers={"Range": f"bytes=0-{half - 1}"})
    etag = first.headers["etag"]
    rest = await client.get(tunnel, headers={"Range": f"bytes={half}-", "If-Range": etag})
    assert (first.status_code, rest.status_code) == (206, 206)
    assert rest.headers["content-range"] == f"bytes {half}-{len(whole) - 1}/{len(whole)}"
    assert rest.headers["content-length"] == str(len(whole) - half)
    assert first.content + rest.content == whole
    tail = await client.get(tunnel, headers={"Range": "bytes=-1000"})
    assert (tail.status_code, tail.content) == (206, whole[-1000:])


async def test_if_range_mismatch_sends_the_whole_file(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    tunnel = await tunnel_for(client, site.pages["mp3"], audio="best")
    r = await client.get(tunnel, headers={"Range": "bytes=100-", "If-Range": '"other"'})
    assert r.status_code == 200
    assert r.content == site.media["audio_mp3"].read_bytes()


async def test_range_past_the_end_is_416(client: httpx.AsyncClient, site: FixtureSite) -> None:
    tunnel = await tunnel_for(client, site.pages["video"])
    size = site.media["progressive"].stat().st_size
    r = await client.get(tunnel, headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    assert r.json()["error"]["code"] == "request.range"


async def test_head_and_cobalt_probe(client: httpx.AsyncClient, site: FixtureSite) -> None:
    tunnel = await tunnel_for(client, site.pages["video"])
    head = await client.head(tunnel)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(site.media["progressive"].stat().st_size)
    remuxed = await client.head(await tunnel_for(client, site.pages["hls"], quality=360))
    assert remuxed.status_code == 200 and "content-length" not in remuxed.headers
    assert remuxed.headers["x-mediadl-mode"] == "remux"
    probe_answer = await client.get(f"{tunnel}&p=1")
    assert (probe_answer.status_code, probe_answer.content) == (200, b"")


async def test_tampered_and_expired_tunnels(client: httpx.AsyncClient, site: FixtureSite) -> None:
    tunnel = await tunnel_for(client, site.pages["video"])
    payload, _, signature = tunnel.partition("t=")[2].partition(".")
    forged = tunnel.replace(signature, signature[::-1])
    r = await client.get(forged)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "tunnel.invalid")
    r = await client.get(f"{forged}&p=1")
    assert r.status_code == 403
    events = await client.get(forged.replace("/tunnel?", "/tunnel/events?"))
    assert (events.status_code, events.json()["error"]["code"]) == (403, "tunnel.invalid")
    other_key = Signer(b"another-secret-0123456789").tunnel(
        site.pages["video"], Choice(), item=None, ttl=60
    )
    r = await client.get(f"/api/v1/tunnel?t={other_key}")
    assert r.status_code == 403
    expired = Signer(SECRET).tunnel(site.pages["video"], Choice(), item=None, ttl=-5)
    r = await client.get(f"/api/v1/tunnel?t={expired}")
    assert (r.status_code, r.json()["error"]["code"]) == (410, "tunnel.expired")
    assert payload


@pytest.mark.parametrize("path", ["/api/v1/tunnel", "/api/v1/tunnel/events", "/api/v1/thumbnail"])
async def test_tokens_are_what_the_schema_says_and_anything_else_is_refused(
    client: httpx.AsyncClient, path: str
) -> None:
    """The schema publishes the tokens' alphabet; a ``t`` outside it is no token of ours."""
    token = Signer(SECRET).tunnel("https://example.com/v", Choice(), item=3, ttl=60)
    assert re.fullmatch(TOKEN_PATTERN, token)
    parameters = (await client.get("/openapi.json")).json()["paths"][path]["get"]["parameters"]
    assert next(p for p in parameters if p["name"] == "t")["schema"]["pattern"] == TOKEN_PATTERN
    for bad in ("\U000fad30" * 10, "not a token at all", "a/b+c=d==e"):
        r = await client.get(path, params={"t": bad})
        assert (r.status_code, r.json()["error"]["code"]) == (403, "tunnel.invalid")


def refusing_opener(*, after: int | None) -> tuple[Opener, list[int]]:
    """An opener whose first stream is refused (403) at once or after ``after`` bytes."""
    starts: list[int] = []

    async def opener(fmt: Format, settings: Settings, start: int) -> Upstream:
        starts.append(start)
        if len(starts) > 1:
            return await open_format(fmt, settings, start)
        if after is None:
            raise errors.FetchForbidden(status=403)
        upstream = await open_format(fmt, settings, start)

        async def chunks() -> AsyncIterator[bytes]:
            sent = 0
            async for chunk in upstream.chunks:
                if sent + len(chunk) >= after:
                    yield chunk[: after - sent]
                    await upstream.aclose()
                    raise errors.FetchForbidden(status=403)
                sent += len(chunk)
                yield chunk

        return Upstream(start, upstream.total, upstream.estimate, chunks())

    return opener, starts


@pytest.mark.parametrize("after", [None, 1_000_000])
async def test_a_refused_link_is_extracted_again_and_the_stream_goes_on(
    after: int | None,
    make_app: Callable[..., FastAPI],
    client_for: ClientFor,
    site: FixtureSite,
) -> None:
    opener, starts = refusing_opener(after=after)
    app = make_app(opener=opener)
    async with app.router.lifespan_context(app), client_for(app) as client:
        tunnel = await tunnel_for(client, site.pages["video"])
        site.reset_counters()
        r = await client.get(tunnel)
    assert r.status_code == 200
    assert r.content == site.media["progressive"].read_bytes()
    assert starts == [0, after or 0], "reopened where it stopped"
    assert site.stats.requests["/pages/video.html"] == 1, "the page was read again"


async def test_a_remux_input_refused_midway_goes_on(
    make_app: Callable[..., FastAPI], client_for: ClientFor, site: FixtureSite, tmp_path: Path
) -> None:
    opener, starts = refusing_opener(after=300_000)
    app = make_app(opener=opener)
    async with app.router.lifespan_context(app), client_for(app) as client:
        tunnel = await tunnel_for(client, site.pages["dash"], quality=360)
        r = await client.get(tunnel)
    assert r.status_code == 200
    assert 300_000 in starts
    out = tmp_path / "out.mp4"
    out.write_bytes(r.content)
    result = probe(out)
    assert result.duration == pytest.approx(60, abs=0.5)


async def test_an_upstream_failure_before_any_byte_is_a_json_error(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    page = site.url("/pages/video.html", missing="progressive.mp4")
    tunnel = await tunnel_for(client, page)
    r = await client.get(tunnel)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "fetch.failed"
    assert "Traceback" not in r.text


async def test_a_remux_whose_input_vanished_is_a_json_error(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    page = site.url("/pages/hls.html", missing="seg_000.ts")
    tunnel = await tunnel_for(client, page, quality=360)
    r = await client.get(tunnel)
    assert r.status_code == 502
    assert r.json()["error"]["code"].startswith("fetch.")


async def test_a_failed_try_at_the_streams_size_is_tried_again(
    site: FixtureSite, settings: Settings
) -> None:
    """An HLS stream's size is estimated from its media playlist: a site that fails that read
    once (503, Retry-After: 0) is asked again, as the fetcher asks for its own requests."""
    from mediadl.engine.extract import resolve

    info = resolve(site.pages["hls"], settings)
    fmt = next(f for f in info.formats if f.protocol.startswith("m3u8") and f.tbr)
    path = urlsplit(fmt.url).path
    flaky = dataclasses.replace(fmt, url=site.url(path, fail=1))
    site.reset_counters()
    upstream = await open_format(flaky, settings, 0)
    try:
        assert upstream.estimate is not None and upstream.estimate > 0
        assert upstream.estimate == (await open_format(fmt, settings, 0)).estimate
    finally:
        await upstream.aclose()
    first, again = [r.status for r in site.stats.log if r.path == path][:2]
    assert first == 503 and again in (200, 206)
