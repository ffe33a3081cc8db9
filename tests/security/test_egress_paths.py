"""The guard on each network path mediadl has, in-process, with an injectable resolver:
yt-dlp's urllib handler, its requests/urllib3 handler, and the fast fetcher's aiohttp client.

``internal.example`` resolves to the canary (127.0.0.3) through the injected resolver, so a
"name that resolves inside" is tested without touching the system's resolver.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from yt_dlp.networking import Request

from mediadl import errors
from mediadl.engine.egress import EgressPolicy, parse_networks
from mediadl.engine.fetch.client import HttpClient
from mediadl.engine.ytdl import map_ytdl_error, new_ydl
from mediadl.settings import Settings
from mediadl_fixtures.hostile import Canary, HostileSite
from support.dns import FakeResolver, fake_getaddrinfo

ALLOWED = parse_networks(["127.0.0.2/32"])
HANDLERS = ["GuardedUrllib", "GuardedRequests"]


@pytest.fixture
def policy(canary: Canary) -> EgressPolicy:
    return EgressPolicy(allow_networks=ALLOWED, getaddrinfo=fake_getaddrinfo)


@pytest.fixture
def settings_small(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_page_size": 256 * 1024})


@pytest.fixture(params=HANDLERS)
def ydl_get(
    request: pytest.FixtureRequest, settings_small: Settings, policy: EgressPolicy
) -> Iterator[Any]:
    """``get(url) -> bytes`` through one of yt-dlp's guarded handlers alone."""
    handler = request.param

    def get(url: str) -> bytes:
        with new_ydl(settings_small, policy=policy) as ydl:
            handlers = ydl._request_director.handlers
            if handler not in handlers:
                pytest.skip(f"{handler} isn't installed")
            for other in [k for k in handlers if k != handler]:
                del handlers[other]
            try:
                with ydl.urlopen(Request(url)) as response:
                    return bytes(response.read())
            except Exception as exc:
                raise map_ytdl_error(exc, url) from exc

    yield get


def test_ytdlp_reaches_the_allowed_site(ydl_get: Any, hostile: HostileSite) -> None:
    assert b"a plain video" in ydl_get(hostile.url("/plain-video"))
    assert b"a plain video" in ydl_get(
        hostile.url("/plain-video").replace("127.0.0.2", "public.example")
    )


@pytest.mark.parametrize(
    "target",
    [
        "http://internal.example:{port}/",
        "http://127.0.0.3:{port}/",
        "http://2130706435:{port}/",
        "http://[::ffff:127.0.0.3]:{port}/",
        "http://localhost:{port}/",
        "ftp://127.0.0.3:{port}/",
        "file:///etc/passwd",
    ],
)
def test_ytdlp_refuses_inside(ydl_get: Any, untouched: Canary, target: str) -> None:
    with pytest.raises(errors.LinkForbidden):
        ydl_get(target.format(port=untouched.port))


@pytest.mark.parametrize(
    "path",
    [
        "/redirect/301",
        "/redirect/302",
        "/redirect/307",
        "/redirect/308",
        "/redirect-to/decimal",
        "/redirect-to/localhost",
        "/redirect-to/ftp",
        "/redirect-to/file",
    ],
)
def test_ytdlp_checks_every_redirect(
    ydl_get: Any, hostile: HostileSite, untouched: Canary, path: str
) -> None:
    with pytest.raises(errors.LinkForbidden):
        ydl_get(hostile.url(path))


@pytest.mark.parametrize("path", ["/huge", "/gzip-bomb"])
def test_ytdlp_bodies_are_bounded(ydl_get: Any, hostile: HostileSite, path: str) -> None:
    with pytest.raises(errors.ContentTooLarge):
        ydl_get(hostile.url(path))


@pytest.mark.parametrize(
    "target",
    [
        "http://internal.example:{port}/",
        "http://127.0.0.3:{port}/",
        "http://2130706435:{port}/",
        "http://127.3:{port}/",
        "http://[::ffff:127.0.0.3]:{port}/",
        "http://localhost:{port}/",
        "http://0.0.0.0:{port}/",
    ],
)
async def test_fetcher_refuses_inside(
    settings: Settings, canary: Canary, untouched: Canary, target: str
) -> None:
    guarded = settings.model_copy(
        update={"allow_networks": ["127.0.0.2/32"], "allow_private": False}
    )
    async with HttpClient(guarded, resolver=FakeResolver()) as client:
        with pytest.raises(errors.LinkForbidden):
            await client.read_small(target.format(port=canary.port), {}, limit=1 << 20)


@pytest.mark.parametrize(
    "path",
    [
        "/redirect/302",
        "/redirect/307",
        "/redirect-to/decimal",
        "/redirect-to/localhost",
        "/redirect-to/mapped",
    ],
)
async def test_fetcher_checks_every_redirect(
    settings: Settings, canary: Canary, hostile: HostileSite, untouched: Canary, path: str
) -> None:
    guarded = settings.model_copy(
        update={"allow_networks": ["127.0.0.2/32"], "allow_private": False}
    )
    async with HttpClient(guarded, resolver=FakeResolver()) as client:
        with pytest.raises(errors.LinkForbidden):
            await client.read_small(hostile.url(path), {}, limit=1 << 20)


async def test_fetcher_reaches_the_allowed_site_by_name(
    settings: Settings, canary: Canary, hostile: HostileSite
) -> None:
    guarded = settings.model_copy(
        update={"allow_networks": ["127.0.0.2/32"], "allow_private": False}
    )
    url = hostile.url("/plain-video").replace("127.0.0.2", "public.example")
    async with HttpClient(guarded, resolver=FakeResolver()) as client:
        assert b"a plain video" in await client.read_small(url, {}, limit=1 << 20)
