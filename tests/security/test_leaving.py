"""Work stops when the client leaves, on every tunnel mode, against a real ``mediadl serve``.

The site under the tunnels is slow on purpose: a video that drips, one whose answer never comes,
one that honours ``Range`` but sends 5 bytes per connection. The server's own deadlines are set
far out, so that only the client leaving can end the work within the test's guard. After the
client closed its connection: the site answers no request any more (the connections that carried
them are closed; the server may keep others alive for later tunnels), no ffmpeg is left under the
server, and the client's download slots are free again (as many new tunnels as it may hold
succeed). And with a client that stays, a site sending a few bytes per connection gets a bounded
number of requests before the tunnel fails.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from mediadl_fixtures.hostile import HostileSite
from mediadl_fixtures.server import FixtureSite
from support.procs import eventually, ffmpeg_children
from support.server import Server, start_server

pytestmark = pytest.mark.slow

SECRET = "leaving-secret-0123456789abcdef"
PER_CLIENT = 2
MEDIA = "/media/progressive.mp4"
UPSTREAMS = {
    "drip": "/k/rate=64",  # the answer starts, then 4 KiB a minute
    "silent": "/k/latency=600000",  # no answer at all for ten minutes
    "trickle": "/k/drop=5",  # Range honoured, 5 bytes per connection
}
MODES = {"passthrough": {}, "remux": {"container": "mkv"}, "transcode": {"container": "webm"}}
FAR = {
    "MEDIADL_READ_TIMEOUT": "600",
    "MEDIADL_FIRST_BYTE_TIMEOUT": "600",
    "MEDIADL_FETCH_MIN_SPEED": "0",
    "MEDIADL_FETCH_RETRIES": "100",
}
"""Deadlines the server would only reach long after the test's guard."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "MEDIADL_SECRET": SECRET,
        "MEDIADL_ALLOW_NETWORKS": "127.0.0.2/32",
        "MEDIADL_MAX_STREAMS_PER_CLIENT": str(PER_CLIENT),
        "MEDIADL_RATE_LIMIT": "100000/minute",
        "MEDIADL_RATE_LIMIT_MEDIA": "100000/minute",
        **FAR,
    }
    running = start_server(tmp_path_factory.mktemp("leaving"), "leaving", env=env, args=())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=60) as client:
        yield client


def tunnel(api: httpx.Client, page: str, mode: str) -> str:
    made = api.post("/api/v1/download", json={"url": page, **MODES[mode]})
    assert made.status_code == 200, made.text
    assert made.json()["mode"] == mode
    return str(made.json()["tunnel"])


def open_raw(server: Server, link: str) -> socket.socket:
    """A tunnel asked for on a bare connection, so the test decides when the client leaves."""
    parts = urlsplit(link)
    sock = socket.create_connection((parts.hostname, parts.port), 30)
    head = f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: mediadl\r\n\r\n"
    sock.sendall(head.encode())
    return sock


def media_requests(site: FixtureSite) -> int:
    """Requests for the slow video (any knobs), not for the plain one."""
    return sum(1 for record in site.stats.log if record.path == MEDIA and record.prefix)


def begun(server: Server, site: FixtureSite, upstream: str, mode: str) -> bool:
    """The server is at work for every tunnel: the site is asked, ffmpeg runs (remuxing)."""
    if upstream == "trickle":
        asked = media_requests(site) >= 2 * PER_CLIENT
    else:
        asked = site.answering >= PER_CLIENT
    if mode == "passthrough":
        return asked
    return asked and len(ffmpeg_children(server.proc.pid)) >= PER_CLIENT


def slots_free(server: Server, page: str) -> bool:
    """As many tunnels as one client may hold, opened at once, all answer 200."""
    with ExitStack() as stack, httpx.Client(base_url=server.base, timeout=60) as api:
        link = tunnel(api, page, "passthrough")
        codes = []
        for _ in range(PER_CLIENT):
            response = stack.enter_context(api.stream("GET", link))
            codes.append(response.status_code)
        return codes == [200] * PER_CLIENT


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_work_stops_when_the_client_leaves(
    server: Server,
    api: httpx.Client,
    site: FixtureSite,
    hostile: HostileSite,
    upstream: str,
    mode: str,
) -> None:
    page = hostile.url("/video-at?path=" + quote(UPSTREAMS[upstream] + MEDIA))
    links = [tunnel(api, page, mode) for _ in range(PER_CLIENT)]
    site.reset_counters()
    clients = [open_raw(server, link) for link in links]
    try:
        assert eventually(lambda: begun(server, site, upstream, mode))
        assert not slots_free(server, hostile.url("/plain-video"))  # every slot is taken
    finally:
        for sock in clients:
            sock.close()
    assert eventually(lambda: site.answering == 0), site.answering
    assert eventually(lambda: not ffmpeg_children(server.proc.pid)), ffmpeg_children(
        server.proc.pid
    )
    assert eventually(lambda: slots_free(server, hostile.url("/plain-video")))
    # counted only now: a request already on its way when the client left may be logged late
    asked = media_requests(site)
    assert slots_free(server, hostile.url("/plain-video"))  # the server goes on working
    if upstream == "trickle":
        assert media_requests(site) == asked  # nothing more asked for nobody


def test_a_few_bytes_per_connection_is_not_progress(
    tmp_path: Path, site: FixtureSite, hostile: HostileSite
) -> None:
    """A client that stays: the tunnel fails after a bounded number of requests to the site,
    however many connections bring a few bytes each."""
    env = {
        "MEDIADL_SECRET": SECRET,
        "MEDIADL_ALLOW_NETWORKS": "127.0.0.2/32",
        "MEDIADL_FETCH_RETRIES": "3",
        "MEDIADL_FETCH_CONNECTIONS": "2",
    }
    page = hostile.url("/video-at?path=" + quote(UPSTREAMS["trickle"] + MEDIA))
    running = start_server(tmp_path, "trickle", env=env, args=())
    try:
        with httpx.Client(base_url=running.base, timeout=120) as api:
            link = tunnel(api, page, "passthrough")
            site.reset_counters()
            with api.stream("GET", link) as response:
                assert response.status_code == 200  # the size came with the first byte
                with pytest.raises(httpx.HTTPError):  # then the stream is cut, not ended
                    for _ in response.iter_bytes():
                        pass
    finally:
        running.stop()
    # the size probe, then at most two connections with four tries each (a few more if a
    # piece is handed on): dozens at most, never the hundreds a reset budget would make
    assert 1 < media_requests(site) <= 1 + 2 * 4 * 2, site.stats.requests
