"""The fast fetcher without aiohttp's private connector hooks: still guarded, still polite.

A newer aiohttp may rename ``TCPConnector._resolve_host``, ``_create_connection``, ``_release`` or
``_wrap_create_connection``, or change what they take; the connector's overrides would then never
run. Disabled (``disable_internals``) or found changed, they are replaced by public aiohttp
(:mod:`mediadl.engine.fetch.hooks`), and every guarantee that matters holds.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mediadl import errors
from mediadl.engine import internals
from mediadl.engine.fetch import FetchItem, fetch_formats, hooks
from mediadl.engine.fetch.client import HttpClient, guarded_connector
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.hostile import Canary, HostileSite
from mediadl_fixtures.server import FixtureSite
from support.dns import FakeResolver


@pytest.fixture
def without_hooks() -> Iterator[None]:
    with internals.disabled(hooks.HOOKS.name):
        yield


@pytest.fixture
def guarded(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_networks": ["127.0.0.2/32"], "allow_private": False})


@pytest.mark.parametrize(
    "target",
    [
        "http://internal.example:{port}/",
        "http://127.0.0.3:{port}/",
        "http://2130706435:{port}/",
        "http://[::ffff:127.0.0.3]:{port}/",
        "http://localhost:{port}/",
    ],
)
async def test_without_the_hooks_the_fetcher_still_refuses_inside(
    without_hooks: None, guarded: Settings, canary: Canary, untouched: Canary, target: str
) -> None:
    async with HttpClient(guarded, resolver=FakeResolver()) as client:
        with pytest.raises(errors.LinkForbidden):
            await client.read_small(target.format(port=canary.port), {}, limit=1 << 20)


async def test_without_the_hooks_every_redirect_is_still_checked(
    without_hooks: None, guarded: Settings, hostile: HostileSite, untouched: Canary
) -> None:
    async with HttpClient(guarded, resolver=FakeResolver()) as client:
        with pytest.raises(errors.LinkForbidden):
            await client.read_small(hostile.url("/redirect-to/localhost"), {}, limit=1 << 20)


async def test_without_the_hooks_the_allowed_site_is_reached_by_name(
    without_hooks: None, guarded: Settings, hostile: HostileSite
) -> None:
    url = hostile.url("/plain-video").replace("127.0.0.2", "public.example")
    async with HttpClient(guarded, resolver=FakeResolver()) as client:
        assert b"a plain video" in await client.read_small(url, {}, limit=1 << 20)
    assert hooks.HOOKS.state == "disabled"


def test_without_the_hooks_downloads_together_still_share_the_hosts_connections(
    without_hooks: None, site: FixtureSite, settings: Settings, tmp_path: Path
) -> None:
    """Two downloads in two threads (two loops, two pools) stay within one cap of 3."""
    capped = settings.model_copy(update={"fetch_connections": 8, "host_connections": 3})
    url = site.url("progressive", latency=10, rate=2_000_000)
    fmt = Format(id="p", url=url, protocol="https", ext="mp4")
    failures: list[BaseException] = []

    def download(dest: Path) -> None:
        try:
            fetch_formats([FetchItem(fmt, dest)], settings=capped)
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    site.reset_counters()
    threads = [threading.Thread(target=download, args=(tmp_path / f"{n}.mp4",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for n in (1, 2):
        assert (tmp_path / f"{n}.mp4").read_bytes() == site.media["progressive"].read_bytes()
    assert site.stats.peak_connections <= 3


async def test_a_changed_hook_is_found_and_the_public_way_taken(
    monkeypatch: pytest.MonkeyPatch, guarded: Settings, hostile: HostileSite, untouched: Canary
) -> None:
    """``_resolve_host`` takes one more parameter in this 'newer aiohttp'."""
    original: Callable[..., Any] = aiohttp.TCPConnector._resolve_host

    async def newer(self: Any, host: str, port: int, traces: Any = None, *, extra: Any = None):
        return await original(self, host, port, traces=traces)

    monkeypatch.setattr(aiohttp.TCPConnector, "_resolve_host", newer)
    hooks.changed.cache_clear()  # looked at again, and again after the test
    with internals.isolated(), contextlib.ExitStack() as after:
        after.callback(hooks.changed.cache_clear)
        async with HttpClient(guarded, resolver=FakeResolver()) as client:
            url = hostile.url("/plain-video").replace("127.0.0.2", "public.example")
            assert b"a plain video" in await client.read_small(url, {}, limit=1 << 20)
            with pytest.raises(errors.LinkForbidden):
                await client.read_small(hostile.url("/redirect-to/localhost"), {}, limit=1 << 20)
        assert hooks.HOOKS.state == "fallback"
        assert "_resolve_host" in (hooks.HOOKS.reason or "")


async def test_without_the_hooks_a_proxy_is_never_bypassed(
    without_hooks: None, guarded: Settings, site: FixtureSite
) -> None:
    """No public way tunnels through the proxy: the connection is refused, not made directly."""
    proxied = guarded.model_copy(update={"proxy": "socks5://127.0.0.2:9"})
    site.reset_counters()
    connector = guarded_connector(proxied)
    assert not connector.private
    async with HttpClient(proxied, connector_factory=lambda: connector) as client:
        with pytest.raises(errors.ProxyFailed):
            await client.read_small(site.url("progressive"), {}, limit=1 << 20)
    assert site.stats.connections_opened == 0
