"""A command-line run works ahead on threads (yt-dlp's TLS context, ffmpeg's version) while it
waits; a process that forks workers never does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mediadl.engine import egress_ytdl, ffmpeg_versions, preload
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """A process that has made no request and no TLS context yet; what ran ahead, recorded."""
    ran: list[tuple[str, Any]] = []
    monkeypatch.setattr(egress_ytdl, "_TLS_CONTEXTS", {})
    monkeypatch.setattr(egress_ytdl, "_tls_aside", False)
    real_tls = egress_ytdl.warm_tls

    def tls(ydl: Any) -> None:
        ran.append((threading.current_thread().name, "tls"))
        real_tls(ydl)

    monkeypatch.setattr(egress_ytdl, "warm_tls", tls)
    monkeypatch.setattr(
        ffmpeg_versions,
        "warm_versions",
        lambda ydl: ran.append((threading.current_thread().name, "versions")),
    )
    requesting, ahead = preload.REQUESTING.is_set(), preload.AHEAD.is_set()
    preload.REQUESTING.clear()
    preload.AHEAD.clear()
    try:
        yield ran
    finally:
        for event, was in ((preload.REQUESTING, requesting), (preload.AHEAD, ahead)):
            event.set() if was else event.clear()


def page(ydl: Any, site: FixtureSite) -> bytes:
    with ydl.urlopen(site.url("video")) as response:
        body: bytes = response.read()
    return body


def wait_for(threads: set[str]) -> None:
    for thread in threading.enumerate():
        if thread.name in threads:
            thread.join(30)


def test_a_run_that_works_ahead_makes_tls_and_asks_ffmpeg_on_threads(
    fresh: list[tuple[str, Any]], settings: Settings, site: FixtureSite
) -> None:
    preload.AHEAD.set()
    with new_ydl(settings) as ydl:
        assert b"<video" in page(ydl, site)
        wait_for({"mediadl-tls", "mediadl-versions"})
    assert sorted(fresh) == [("mediadl-tls", "tls"), ("mediadl-versions", "versions")]
    assert egress_ytdl._TLS_CONTEXTS, "the context made ahead is the one requests share"
    with new_ydl(settings) as ydl:  # once per process
        page(ydl, site)
    assert len(fresh) == 2


def test_a_process_that_forks_workers_starts_no_thread(
    fresh: list[tuple[str, Any]], settings: Settings, site: FixtureSite
) -> None:
    before = {t.ident for t in threading.enumerate()}
    with new_ydl(settings) as ydl:
        assert b"<video" in page(ydl, site)
        started = {t.name for t in threading.enumerate() if t.ident not in before}
    assert fresh == []
    assert not started & {"mediadl-tls", "mediadl-versions"}
    assert egress_ytdl._TLS_CONTEXTS, "the request made its context itself"
