"""A proxy as people set it: ``mediadl get --proxy``, ``HTTP_PROXY``, a server's MEDIADL_PROXY —
real processes, a real proxy on 127.0.0.4, the fixture site on 127.0.0.2, the canary on .3."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mediadl_fixtures.hostile import Canary
from mediadl_fixtures.proxy import ForwardProxy, running_proxy
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl
from support.media import assert_media
from support.server import Server

PROXY_HOST = "127.0.0.4"
DURATION = 60.0


@pytest.fixture(scope="module")
def running() -> Iterator[ForwardProxy]:
    with running_proxy(PROXY_HOST) as started:
        yield started


@pytest.fixture
def proxy(running: ForwardProxy) -> ForwardProxy:
    """The proxy, its log starting empty with the test (as the site's counters do)."""
    running.log.clear()
    return running


def mediadl(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a person runs it, with no proxy variables but ``env``'s."""
    names = ("proxy", "PROXY", "MEDIADL_")
    environ = {k: v for k, v in os.environ.items() if not any(n in k for n in names)}
    return run_mediadl(*args, env={**environ, **env}, timeout=180)


def assert_all_through(proxy: ForwardProxy, site: FixtureSite) -> None:
    """Every request and every connection the site received came through the proxy."""
    received = sorted((r.method, r.path, r.range or "") for r in site.stats.log)
    carried = sorted(
        (r.method, r.target.split("?")[0], r.range or "")
        for r in proxy.requests_to(site.host, site.port)
    )
    assert received, "the site was asked for something"
    assert carried == received
    assert site.stats.connections_opened == len(proxy.tunnels_to(site.host, site.port))


def test_get_with_proxy_sends_everything_through_it(
    site: FixtureSite, proxy: ForwardProxy, tmp_path: Path
) -> None:
    done = mediadl("get", site.pages["hls"], "-q", "720", "-o", str(tmp_path), "--proxy", proxy.url)
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=DURATION)
    assert_all_through(proxy, site)
    assert any(r.target.endswith(".ts") for r in proxy.requests_to(site.host, site.port))


def test_http_proxy_variable_does_the_same(
    site: FixtureSite, proxy: ForwardProxy, tmp_path: Path
) -> None:
    done = mediadl("get", site.pages["video"], "-o", str(tmp_path), HTTP_PROXY=proxy.url)
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=DURATION)
    assert_all_through(proxy, site)
    ranged = [r for r in proxy.requests_to(site.host, site.port) if r.range]
    assert ranged, "the media's ranges went through the proxy"


def test_empty_proxy_flag_turns_the_variable_off(
    site: FixtureSite, proxy: ForwardProxy, tmp_path: Path
) -> None:
    before = proxy.connections
    closed = f"http://{PROXY_HOST}:{_closed_port()}"
    done = mediadl("info", "--json", site.pages["video"], "--proxy", "", HTTPS_PROXY=closed)
    assert done.returncode == 0, done.stderr
    assert proxy.connections == before


def test_unreachable_proxy_is_named_in_its_own_error(site: FixtureSite, tmp_path: Path) -> None:
    closed = f"socks5://someone:pa55word@{PROXY_HOST}:{_closed_port()}"
    done = mediadl("get", site.pages["video"], "--json", "-o", str(tmp_path), "--proxy", closed)
    assert done.returncode == 1
    (item,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert item["error"]["code"] == "proxy.failed"
    assert f"socks5://{PROXY_HOST}:" in item["error"]["message"]
    assert "pa55word" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_local_proxy_must_be_allowed(
    site: FixtureSite, proxy: ForwardProxy, tmp_path: Path
) -> None:
    before = proxy.connections
    done = mediadl(
        "get",
        site.pages["video"],
        "-o",
        str(tmp_path),
        "--deny-private",
        "--proxy",
        proxy.url,
        MEDIADL_ALLOW_NETWORKS="127.0.0.2/32",
    )
    assert done.returncode == 1
    assert "proxy.forbidden" in done.stderr and f"{PROXY_HOST}/32" in done.stderr
    assert proxy.connections == before


def test_an_inside_target_through_an_allowed_proxy_is_refused(
    proxy: ForwardProxy, untouched: Canary, tmp_path: Path
) -> None:
    before = proxy.connections
    done = mediadl(
        "get",
        untouched.url("/video.mp4"),
        "--json",
        "-o",
        str(tmp_path),
        "--deny-private",
        MEDIADL_ALLOW_NETWORKS=f"127.0.0.2/32,{PROXY_HOST}/32",
        HTTPS_PROXY=proxy.url,
    )
    assert done.returncode == 1
    (item,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert item["error"]["code"] == "link.forbidden"
    assert proxy.connections == before


# --- the server ----------------------------------------------------------------------------


def test_server_tunnel_and_thumbnail_go_through_its_proxy(
    launch: Callable[..., Server], site: FixtureSite, proxy: ForwardProxy, tmp_path: Path
) -> None:
    server = launch(
        "proxied",
        MEDIADL_PROXY=proxy.url_as("socks5"),
        MEDIADL_ALLOW_NETWORKS=f"127.0.0.2/32,{PROXY_HOST}/32",
    )
    site.reset_counters()
    with httpx.Client(base_url=server.base, timeout=120) as api:
        made = api.post("/api/v1/download", json={"url": site.pages["hls"], "quality": 720})
        assert made.status_code == 200, made.text
        response = api.get(made.json()["tunnel"])
        resolved = api.post("/api/v1/resolve", json={"url": site.pages["video"]})
        thumb = api.get(resolved.json()["thumbnail"])
    assert thumb.status_code == 200 and thumb.content == site.media["thumb"].read_bytes()
    assert response.status_code == 200
    path = tmp_path / "tunnel.mp4"
    path.write_bytes(response.content)
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=DURATION)
    assert_all_through(proxy, site)


def test_server_refuses_to_start_with_a_local_proxy_not_allowed(
    launch: Callable[..., Server], proxy: ForwardProxy
) -> None:
    with pytest.raises(RuntimeError, match=r"proxy\.forbidden") as caught:
        launch("unallowed", MEDIADL_PROXY=f"http://user:topsecret@{PROXY_HOST}:{proxy.port}")
    assert "topsecret" not in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((PROXY_HOST, 0))
        return int(sock.getsockname()[1])


def test_server_names_an_unreachable_proxy(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    closed = _closed_port()
    server = launch(
        "unreachable",
        MEDIADL_PROXY=f"http://user:topsecret@{PROXY_HOST}:{closed}",
        MEDIADL_ALLOW_NETWORKS=f"127.0.0.2/32,{PROXY_HOST}/32",
    )
    with httpx.Client(base_url=server.base, timeout=60) as api:
        native = api.post("/api/v1/resolve", json={"url": site.pages["video"]})
        cobalt = api.post(
            "/", json={"url": site.pages["video"]}, headers={"Accept": "application/json"}
        )
    assert native.status_code == 502
    assert native.json()["error"]["code"] == "proxy.failed"
    assert f"http://{PROXY_HOST}:{closed}" in native.json()["error"]["message"]
    assert cobalt.json()["status"] == "error"
    for text in (native.text, cobalt.text, server.log.read_text()):
        assert "topsecret" not in text
