"""The operator's proxy, with a real proxy on 127.0.0.4: traffic goes through it, and the egress
guard still decides — on each of yt-dlp's guarded handlers (and the public fallback) and in the
fast fetcher.

``internal.example`` resolves to the canary (127.0.0.3) and ``public.example`` to the fixture
site (127.0.0.2) through the injected resolver (see test_egress_paths).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from yt_dlp.networking import Request

from mediadl import errors
from mediadl.engine.egress import EgressPolicy, parse_networks
from mediadl.engine.fetch.client import HttpClient, RequestFailed
from mediadl.engine.proxy import check_proxy
from mediadl.engine.ytdl import map_ytdl_error, new_ydl
from mediadl.settings import Settings
from mediadl_fixtures.hostile import Canary, HostileSite
from mediadl_fixtures.proxy import ForwardProxy, running_proxy
from mediadl_fixtures.server import FixtureSite
from support.dns import FakeResolver, fake_getaddrinfo

PROXY_HOST = "127.0.0.4"
ALLOWED = ["127.0.0.2/32", f"{PROXY_HOST}/32"]
HANDLERS = ["GuardedUrllib", "GuardedRequests", "GuardedHTTP"]
INSIDE = [
    "http://internal.example:{port}/",
    "http://127.0.0.3:{port}/",
    "http://2130706435:{port}/",
    "http://[::ffff:127.0.0.3]:{port}/",
    "http://localhost:{port}/",
]


@pytest.fixture(scope="module")
def proxy() -> Iterator[ForwardProxy]:
    with running_proxy(PROXY_HOST) as running:
        yield running


@pytest.fixture(scope="module")
def locked() -> Iterator[ForwardProxy]:
    """A proxy that wants a login."""
    with running_proxy("127.0.0.5", credentials=("mediadl", "s3cret-pw")) as running:
        yield running


def proxied(settings: Settings, url: str, allow: list[str] | None = None) -> Settings:
    networks = [*ALLOWED, "127.0.0.5/32"] if allow is None else allow
    return settings.model_copy(update={"proxy": url, "allow_networks": networks})


def ydl_get(settings: Settings, url: str, handler: str, canary: Canary) -> bytes:
    """``url``'s body through one guarded handler alone (``GuardedHTTP``: the public fallback)."""
    policy = EgressPolicy(
        allow_networks=parse_networks(settings.allow_networks), getaddrinfo=fake_getaddrinfo
    )
    with new_ydl(settings, policy=policy) as ydl:
        if handler == "GuardedHTTP":
            from mediadl.engine.egress_public import GuardedHTTPRH

            ydl._request_director = ydl.build_request_director([])
            ydl._request_director.handlers.clear()
            fallback = GuardedHTTPRH(logger=ydl._request_director.logger)
            fallback.guard = ydl._mediadl_guard
            ydl._request_director.add_handler(fallback)
        handlers = ydl._request_director.handlers
        for other in [k for k in handlers if k != handler]:
            del handlers[other]
        assert list(handlers) == [handler]
        try:
            with ydl.urlopen(Request(url)) as response:
                return bytes(response.read())
        except Exception as exc:
            raise map_ytdl_error(exc, url) from exc


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h", "socks4", "socks4a"])
@pytest.mark.parametrize("handler", HANDLERS)
def test_ytdlp_goes_through_the_proxy(
    settings: Settings,
    proxy: ForwardProxy,
    hostile: HostileSite,
    canary: Canary,
    handler: str,
    scheme: str,
) -> None:
    url = hostile.url("/plain-video")
    assert b"a plain video" in ydl_get(
        proxied(settings, proxy.url_as(scheme)), url, handler, canary
    )
    port = int(url.split(":")[2].split("/")[0])
    seen = proxy.requests_to("127.0.0.2", port)
    assert any(r.target == "/plain-video" for r in seen), proxy.log[-3:]


@pytest.mark.parametrize("handler", HANDLERS)
def test_the_proxy_is_sent_the_checked_address_except_with_socks5h(
    settings: Settings, proxy: ForwardProxy, hostile: HostileSite, canary: Canary, handler: str
) -> None:
    url = hostile.url("/plain-video").replace("127.0.0.2", "public.example")
    body = ydl_get(proxied(settings, proxy.url_as("socks5")), url, handler, canary)
    assert b"a plain video" in body
    assert proxy.log[-2].kind == "socks5" and proxy.log[-2].host == "127.0.0.2"
    # socks5h: the proxy resolves the name itself; it can't resolve public.example
    with pytest.raises(errors.ProxyFailed):
        ydl_get(proxied(settings, proxy.url_as("socks5h")), url, handler, canary)
    assert proxy.log[-1].host == "public.example" and proxy.log[-1].remote_dns


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
@pytest.mark.parametrize("target", INSIDE)
@pytest.mark.parametrize("handler", HANDLERS)
def test_ytdlp_refuses_inside_through_the_proxy(
    settings: Settings,
    proxy: ForwardProxy,
    untouched: Canary,
    handler: str,
    target: str,
    scheme: str,
) -> None:
    before = proxy.connections
    with pytest.raises(errors.LinkForbidden):
        ydl_get(
            proxied(settings, proxy.url_as(scheme)),
            target.format(port=untouched.port),
            handler,
            untouched,
        )
    assert proxy.connections == before, "the proxy was asked for the inside"


@pytest.mark.parametrize("handler", HANDLERS)
def test_ytdlp_checks_redirects_through_the_proxy(
    settings: Settings,
    proxy: ForwardProxy,
    hostile: HostileSite,
    untouched: Canary,
    handler: str,
) -> None:
    with pytest.raises(errors.LinkForbidden):
        ydl_get(proxied(settings, proxy.url), hostile.url("/redirect/302"), handler, untouched)
    assert not proxy.tunnels_to("127.0.0.3", untouched.port)


def test_a_local_proxy_must_be_allowed_explicitly(
    settings: Settings, proxy: ForwardProxy, hostile: HostileSite, canary: Canary
) -> None:
    unallowed = proxied(settings, proxy.url, allow=["127.0.0.2/32"])
    with pytest.raises(errors.ProxyForbidden) as caught:
        check_proxy(unallowed)
    assert "127.0.0.4/32" in caught.value.message and "allow_networks" in caught.value.message
    before = proxy.connections
    for handler in HANDLERS:
        with pytest.raises(errors.ProxyForbidden):
            ydl_get(unallowed, hostile.url("/plain-video"), handler, canary)
    assert proxy.connections == before


@pytest.mark.parametrize("handler", HANDLERS)
def test_an_unreachable_proxy_is_the_proxys_error(
    settings: Settings, hostile: HostileSite, canary: Canary, handler: str
) -> None:
    closed = _closed_port(PROXY_HOST)
    url = f"http://user:hunter2@{PROXY_HOST}:{closed}"
    with pytest.raises(errors.ProxyFailed) as caught:
        ydl_get(proxied(settings, url), hostile.url("/plain-video"), handler, canary)
    assert caught.value.code == "proxy.failed" and caught.value.status == 502
    assert f"http://{PROXY_HOST}:{closed}" in caught.value.message
    assert "hunter2" not in str(caught.value.to_dict())


@pytest.mark.parametrize("scheme", ["http", "socks5"])  # SOCKS4 has one "failed" for all
@pytest.mark.parametrize("handler", HANDLERS)
def test_a_site_the_proxy_cant_reach_is_said_so(
    settings: Settings, proxy: ForwardProxy, canary: Canary, handler: str, scheme: str
) -> None:
    down = f"http://127.0.0.2:{_closed_port('127.0.0.2')}/page.html"
    with pytest.raises(errors.ProxyFailed) as caught:
        ydl_get(proxied(settings, proxy.url_as(scheme)), down, handler, canary)
    assert "couldn't reach the site" in caught.value.message


@pytest.mark.parametrize("scheme", ["http", "socks5"])
@pytest.mark.parametrize("handler", HANDLERS)
def test_a_proxy_login_is_used_and_a_missing_one_is_named(
    settings: Settings,
    locked: ForwardProxy,
    hostile: HostileSite,
    canary: Canary,
    handler: str,
    scheme: str,
) -> None:
    url = hostile.url("/plain-video")
    with_login = proxied(settings, locked.url_as(scheme))
    assert b"a plain video" in ydl_get(with_login, url, handler, canary)
    bad = locked.url_as(scheme).replace("s3cret-pw", "wrong-pw")
    with pytest.raises(errors.ProxyAuth) as caught:
        ydl_get(proxied(settings, bad), url, handler, canary)
    assert caught.value.code == "proxy.auth"
    assert "wrong-pw" not in str(caught.value.to_dict()) + caught.value.message


# --- the fast fetcher ---------------------------------------------------------------------


def client(settings: Settings, canary: Canary) -> HttpClient:
    policy = EgressPolicy(allow_networks=parse_networks(settings.allow_networks))
    return HttpClient(settings, resolver=FakeResolver(), peer_check=policy.check_peer)


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h", "socks4", "socks4a"])
async def test_fetcher_goes_through_the_proxy(
    settings: Settings, proxy: ForwardProxy, site: FixtureSite, canary: Canary, scheme: str
) -> None:
    url = site.urls["progressive"]
    async with client(proxied(settings, proxy.url_as(scheme)), canary) as http:
        body = await http.read_small(url, {}, limit=1 << 30)
    assert body
    path = "/" + url.split("/", 3)[3]
    seen = proxy.requests_to("127.0.0.2", site.port)
    assert any(r.target == path and r.range == "bytes=0-" for r in seen)


@pytest.mark.parametrize("target", [*INSIDE, "http://127.3:{port}/", "http://0.0.0.0:{port}/"])
async def test_fetcher_refuses_inside_through_the_proxy(
    settings: Settings, proxy: ForwardProxy, untouched: Canary, target: str
) -> None:
    before = proxy.connections
    async with client(proxied(settings, proxy.url), untouched) as http:
        with pytest.raises(errors.LinkForbidden):
            await http.read_small(target.format(port=untouched.port), {}, limit=1024)
    assert proxy.connections == before


async def test_fetcher_proxy_failures_are_the_proxys(
    settings: Settings, proxy: ForwardProxy, locked: ForwardProxy, site: FixtureSite, canary: Canary
) -> None:
    url = site.pages["video"]
    closed = f"socks5://{PROXY_HOST}:{_closed_port(PROXY_HOST)}"
    async with client(proxied(settings, closed), canary) as http:
        with pytest.raises(errors.ProxyFailed):
            await http.read_small(url, {}, limit=1 << 20)
    nologin = locked.url_as("http").replace("mediadl:s3cret-pw@", "")
    async with client(proxied(settings, nologin), canary) as http:
        with pytest.raises(errors.ProxyAuth):
            await http.read_small(url, {}, limit=1 << 20)
    unallowed = proxied(settings, proxy.url, allow=["127.0.0.2/32"])
    async with client(unallowed, canary) as http:
        with pytest.raises((errors.ProxyForbidden, RequestFailed)) as caught:
            await http.read_small(url, {}, limit=1 << 20)
    assert isinstance(caught.value, errors.ProxyForbidden)


def _closed_port(host: str) -> int:
    """A port on ``host`` nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- the setting and the variables ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("ftp://user:pw-123@proxy.example:21", "scheme 'ftp'"),
        ("https://user:pw-123@proxy.example:443", "https:// proxies"),
        ("http://user:pw-123@:3128", "no host"),
        ("http://user:pw-123@proxy.example:3128/path", "nothing more"),
        ("http://user:pw-123@proxy.example:99999", "not a URL"),
    ],
)
def test_a_bad_proxy_setting_says_why_without_the_password(value: str, says: str) -> None:
    with pytest.raises(ValueError, match="proxy") as caught:
        Settings(proxy=value)
    assert says in str(caught.value)
    assert "pw-123" not in str(caught.value)


def test_proxy_setting_forms() -> None:
    from mediadl.engine.proxy import proxy_of

    assert Settings(proxy="  ").proxy is None
    proxy = proxy_of(Settings(proxy="socks5h://a%40b:p%3Aw@proxy.example", no_proxy="x.test"))
    assert proxy is not None
    assert (proxy.scheme, proxy.host, proxy.port) == ("socks5h", "proxy.example", 1080)
    assert (proxy.username, proxy.password, proxy.remote_dns) == ("a@b", "p:w", True)
    assert proxy.shown == "socks5h://proxy.example:1080"
    assert "p:w" not in repr(proxy) and "p%3Aw" not in repr(Settings(proxy="http://u:p%3Aw@h:1"))


@pytest.mark.parametrize(
    ("host", "through"),
    [
        ("example.com", True),
        ("cdn.media.test", False),
        ("media.test", False),
        ("notmedia.test", True),
        ("10.1.2.3", False),
        ("10.2.0.1", True),
        ("[::1]", False),
    ],
)
def test_no_proxy_reads_like_curl(host: str, through: bool) -> None:
    from mediadl.proxyurl import parse_proxy

    proxy = parse_proxy("http://proxy.example:3128", [".media.test", "10.1.0.0/16", "::1"])
    assert proxy.applies(host) is through
    assert not parse_proxy("http://p:1", ["*"]).applies("example.com")


def test_proxy_variables_as_the_cli_reads_them() -> None:
    from mediadl.cli.common import _proxy_values, environment_proxy

    env = {"HTTP_PROXY": "proxy.example:3128", "NO_PROXY": "a.test, b.test"}
    assert environment_proxy(env) == ("http://proxy.example:3128", ["a.test", "b.test"])
    both = {
        "https_proxy": "socks5://s:1080",
        "HTTPS_PROXY": "http://x:1",
        "HTTP_PROXY": "http://y:2",
    }
    assert environment_proxy(both)[0] == "socks5://s:1080"
    assert _proxy_values("", both) == {"proxy": None}
    assert _proxy_values(None, {**both, "MEDIADL_PROXY": "http://m:3"}) == {}
    assert _proxy_values("http://flag:4", both) == {"proxy": "http://flag:4"}
    assert _proxy_values(None, {}) == {}


def test_the_fixture_proxy_forwards_absolute_form_requests(
    proxy: ForwardProxy, site: FixtureSite
) -> None:
    """The test proxy also speaks HTTP the other way (as curl does for http:// links)."""
    import httpx

    response = httpx.get(site.pages["video"], proxy=proxy.url, timeout=10)
    assert response.status_code == 200 and b"<video" in response.content
    path = "/" + site.pages["video"].split("/", 3)[3]
    assert proxy.log[-1].kind == "forward" and proxy.log[-1].target == path
