"""Polite by default: few connections to one host for the whole process, fewer when it pushes back.

The fixture site counts the connections open at once; in CDN mode (``connlimit``) it answers
``429`` with a ``Retry-After`` to a client past its connection allowance, like a CDN would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from mediadl.engine.fetch import FetchItem, fetch_formats
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures import running_site
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]


def test_the_default_is_at_most_16_connections_to_one_host() -> None:
    settings = Settings()
    assert settings.host_connections == 16
    assert settings.fetch_connections <= 16


def test_one_download_never_opens_more_than_the_host_allows(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    # each connection is slow, so the controller would grow well past 4 if it could
    fmt = format_for("progressive", latency=10, rate=2_000_000)
    settings = fast.model_copy(update={"fetch_connections": 64, "host_connections": 4})
    site.reset_counters()
    fetch_formats([FetchItem(fmt, tmp_path / "p.mp4")], settings=settings)
    assert (tmp_path / "p.mp4").read_bytes() == site.media["progressive"].read_bytes()
    assert site.stats.peak_connections <= 4


def test_downloads_running_together_share_the_hosts_connections(
    site: FixtureSite,
    format_for: FormatFor,
    dash_bytes: Callable[[Format], bytes],
    fast: Settings,
    tmp_path: Path,
) -> None:
    """Two downloads in two threads (two event loops, two pools) stay within one cap."""
    settings = fast.model_copy(update={"fetch_connections": 8, "host_connections": 3})
    progressive = format_for("progressive", latency=10, rate=2_000_000)
    video = format_for("dash:video", latency=10, rate=2_000_000)
    failures: list[BaseException] = []

    def download(fmt: Format, dest: Path) -> None:
        try:
            fetch_formats([FetchItem(fmt, dest)], settings=settings)
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    site.reset_counters()
    threads = [
        threading.Thread(target=download, args=(progressive, tmp_path / "p.mp4")),
        threading.Thread(target=download, args=(video, tmp_path / "v.mp4")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert (tmp_path / "p.mp4").read_bytes() == site.media["progressive"].read_bytes()
    assert (tmp_path / "v.mp4").read_bytes() == dash_bytes(format_for("dash:video"))
    assert site.stats.peak_connections <= 3


def test_a_cdn_that_answers_429_is_obeyed_and_the_file_still_comes_out_whole(
    site: FixtureSite, fast: Settings, tmp_path: Path
) -> None:
    # a site of its own: no connection of another test is still counted against this client
    with running_site(site.host, media=site.mediaset) as cdn:
        # one connection allowed: the second request (once the first one's rate shows that a
        # second pays) is one too many
        url = cdn.url("progressive", latency=10, rate=2_000_000, connlimit=1, connretry=0.2)
        fmt = Format(id="p", url=url, protocol="https", ext="mp4")
        fetch_formats([FetchItem(fmt, tmp_path / "p.mp4")], settings=fast)
        log = cdn.stats.log
    assert (tmp_path / "p.mp4").read_bytes() == site.media["progressive"].read_bytes()
    statuses = [record.status for record in log]
    assert 429 in statuses  # it did try more than the CDN allows...
    # ...then went down to what it allows: every later request was served (if any: the
    # refused one's bytes may come on the first connection, which reads on instead)
    after = statuses[statuses.index(429) + 1 :]
    assert set(after) <= {206}


def test_the_fixture_cdn_refuses_a_connection_past_its_allowance(site: FixtureSite) -> None:
    import http.client

    url = site.url("progressive", connlimit=2, connretry=3)
    path = url.removeprefix(site.base_url)
    conns = [http.client.HTTPConnection(site.host, site.port, timeout=10) for _ in range(3)]
    try:
        for conn in conns:
            conn.connect()
        answers = []
        for conn in conns:
            conn.request("GET", path, headers={"Range": "bytes=0-9"})
            answer = conn.getresponse()
            answers.append((answer.status, answer.getheader("Retry-After"), answer.read()))
    finally:
        for conn in conns:
            conn.close()
    assert [status for status, _, _ in answers] == [206, 206, 429]
    assert answers[2][1] == "3"
    assert answers[0][2] == site.media["progressive"].read_bytes()[:10]
