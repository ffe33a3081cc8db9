"""The guard without yt-dlp's private networking: each internal disabled (as the
``disable_internals`` setting does) or missing, yt-dlp's requests still go through the guard —
inside addresses refused, the canary untouched — and a real download still comes out right."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from yt_dlp.networking import Request

from mediadl import errors
from mediadl.engine import Engine, internals
from mediadl.engine.egress import EgressPolicy, parse_networks
from mediadl.engine.ytdl import map_ytdl_error, new_ydl
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl_fixtures.hostile import Canary, HostileSite
from mediadl_fixtures.proxy import running_proxy
from mediadl_fixtures.server import FixtureSite
from support.dns import fake_getaddrinfo
from support.media import assert_media

URLLIB = "yt_dlp.networking._urllib"
REQUESTS = "yt_dlp.networking._requests"
DIRECTOR = "yt_dlp.YoutubeDL._request_director"
NETWORKING = [URLLIB, REQUESTS, DIRECTOR]
INSIDE = [
    "http://internal.example:{port}/",
    "http://127.0.0.3:{port}/",
    "http://2130706435:{port}/",
    "http://[::ffff:127.0.0.3]:{port}/",
    "http://localhost:{port}/",
    "file:///etc/passwd",
]


@pytest.fixture
def registry() -> Iterator[Callable[..., None]]:
    """``without(name, …)`` disables internals for this test; the registry is restored after."""
    with contextlib.ExitStack() as stack:
        yield lambda *names: stack.enter_context(internals.disabled(*names))


def ydl_get(settings: Settings, url: str) -> tuple[bytes, list[str]]:
    """``url``'s body through whatever handlers the guard chose, and their keys."""
    policy = EgressPolicy(
        allow_networks=parse_networks(settings.allow_networks), getaddrinfo=fake_getaddrinfo
    )
    with new_ydl(settings, policy=policy) as ydl:
        try:
            with ydl.urlopen(Request(url)) as response:
                body = bytes(response.read())
        except Exception as exc:
            raise map_ytdl_error(exc, url) from exc
        return body, list(ydl._request_director.handlers)


def state(name: str) -> str:
    return next(i.state for i in internals.report() if i.name == name)


@pytest.mark.parametrize("names", [[URLLIB], [REQUESTS], [DIRECTOR], NETWORKING])
def test_disabled_internals_still_reach_the_allowed_site(
    registry: Callable[..., None], settings: Settings, hostile: HostileSite, names: list[str]
) -> None:
    registry(*names)
    body, handlers = ydl_get(settings, hostile.url("/plain-video"))
    assert b"a plain video" in body
    assert set(handlers) <= {"GuardedUrllib", "GuardedRequests", "GuardedHTTP"}
    if URLLIB in names:
        assert "GuardedHTTP" in handlers and "GuardedUrllib" not in handlers
    if REQUESTS in names:
        assert "GuardedRequests" not in handlers
    assert all(state(name) == "disabled" for name in names)


@pytest.mark.parametrize("target", INSIDE)
@pytest.mark.parametrize("names", [[URLLIB], [REQUESTS], [DIRECTOR], NETWORKING])
def test_disabled_internals_still_refuse_inside(
    registry: Callable[..., None],
    settings: Settings,
    untouched: Canary,
    names: list[str],
    target: str,
) -> None:
    registry(*names)
    with pytest.raises((errors.LinkForbidden, errors.LinkUnsupported)):
        ydl_get(settings, target.format(port=untouched.port))


@pytest.mark.parametrize("path", ["/redirect/302", "/redirect-to/decimal", "/redirect-to/file"])
def test_the_fallback_handler_checks_redirects(
    registry: Callable[..., None],
    settings: Settings,
    hostile: HostileSite,
    untouched: Canary,
    path: str,
) -> None:
    registry(*NETWORKING)
    with pytest.raises(errors.LinkForbidden):
        ydl_get(settings, hostile.url(path))


@pytest.mark.parametrize("path", ["/huge", "/gzip-bomb"])
def test_the_fallback_handler_bounds_bodies(
    registry: Callable[..., None], settings: Settings, hostile: HostileSite, path: str
) -> None:
    registry(*NETWORKING)
    small = settings.model_copy(update={"max_page_size": 256 * 1024})
    with pytest.raises(errors.ContentTooLarge):
        ydl_get(small, hostile.url(path))


@pytest.mark.parametrize(
    ("module", "name"),
    [("mediadl.engine.egress_urllib", URLLIB), ("mediadl.engine.egress_requests", REQUESTS)],
)
def test_a_missing_module_falls_back_and_stays_guarded(
    registry: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    hostile: HostileSite,
    untouched: Canary,
    module: str,
    name: str,
) -> None:
    registry()  # restore the registry after the test
    for internal in internals.report():
        if internal.name == name:
            internal.seen, internal.problem = "unused", None
    monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    body, handlers = ydl_get(settings, hostile.url("/plain-video"))
    assert b"a plain video" in body
    assert state(name) == "fallback"
    assert ("GuardedHTTP" in handlers) == (name == URLLIB)
    with pytest.raises(errors.LinkForbidden):
        ydl_get(settings, f"http://127.0.0.3:{untouched.port}/")


def test_a_download_without_networking_internals_through_a_proxy(
    registry: Callable[..., None], settings: Settings, site: FixtureSite, tmp_path: Path
) -> None:
    registry(*NETWORKING)
    with running_proxy("127.0.0.4") as proxy:
        proxied = settings.model_copy(
            update={
                "proxy": proxy.url,
                "allow_networks": [*settings.allow_networks, "127.0.0.4/32"],
            }
        )
        engine = Engine(proxied)
        info = engine.resolve(site.pages["hls"])
        path = engine.download(engine.plan(info, Choice(quality=720)), tmp_path)
        carried = {r.target for r in proxy.requests_to(site.host, site.port)}
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=60.0)
    assert {r.path for r in site.stats.log} <= carried
    assert state(URLLIB) == "disabled"
