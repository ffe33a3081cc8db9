"""Redirects are followed by the fetcher itself: each hop gets the cookies that belong to its URL,
so a host's cookie never follows a redirect to another host, and the other host gets its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from mediadl.engine.fetch import stream_format
from mediadl.models import CookieRecord, Format
from mediadl.settings import Settings

BODY = bytes(range(256)) * 4096


async def serve(app: web.Application, host: str) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@pytest.fixture
async def hosts() -> AsyncIterator[tuple[str, list[str | None]]]:
    """``(redirecting url, cookies seen by the file's host)``: 127.0.0.2 sends to 127.0.0.3."""
    seen: list[str | None] = []

    async def file(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Cookie"))
        return web.Response(body=BODY, content_type="video/mp4")

    target = web.Application()
    target.router.add_get("/file.mp4", file)
    target_runner, target_port = await serve(target, "127.0.0.3")

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://127.0.0.3:{target_port}/file.mp4")

    async def inward(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/v/file.mp4")

    origin = web.Application()
    origin.router.add_get("/moved.mp4", moved)
    origin.router.add_get("/inward.mp4", inward)
    origin.router.add_get("/v/file.mp4", file)
    origin_runner, origin_port = await serve(origin, "127.0.0.2")
    yield f"http://127.0.0.2:{origin_port}/moved.mp4", seen
    await origin_runner.cleanup()
    await target_runner.cleanup()


async def test_cookies_stay_with_their_host_across_redirects(
    hosts: tuple[str, list[str | None]], tmp_path: Path
) -> None:
    url, seen = hosts
    settings = Settings(allow_networks=["127.0.0.0/8"], data_dir=tmp_path)
    cookies = (
        CookieRecord("sid", "secret", "127.0.0.2", "/", domain_specified=False),
        CookieRecord("cdn", "token", "127.0.0.3", "/", domain_specified=False),
    )
    fmt = Format(id="r", url=url, protocol="http", ext="mp4", cookies=cookies)
    data = b"".join([chunk async for chunk in stream_format(fmt, settings)])
    assert data == BODY
    assert seen and all(cookie == "cdn=token" for cookie in seen)


async def test_a_redirect_into_a_cookies_path_gets_that_cookie(
    hosts: tuple[str, list[str | None]], tmp_path: Path
) -> None:
    url, seen = hosts
    settings = Settings(allow_networks=["127.0.0.0/8"], data_dir=tmp_path)
    cookies = (CookieRecord("member", "m", "127.0.0.2", "/v", domain_specified=False),)
    fmt = Format(
        id="r",
        url=url.replace("/moved.mp4", "/inward.mp4"),
        protocol="http",
        ext="mp4",
        cookies=cookies,
    )
    data = b"".join([chunk async for chunk in stream_format(fmt, settings)])
    assert data == BODY
    assert seen and all(cookie == "member=m" for cookie in seen)
