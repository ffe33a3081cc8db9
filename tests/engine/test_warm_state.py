"""What the extraction forkserver builds once for every extraction forked from it: one TLS
context for yt-dlp's requests, and room in ``re``'s cache for every pattern it compiled. Each is
a private internal with a fallback that gives a working, if slower, extraction."""

from __future__ import annotations

import re
import ssl
from typing import Any

import pytest
from yt_dlp.networking.common import RequestHandler

from mediadl.engine import internals
from mediadl.engine.egress_ytdl import TLS, warm_tls
from mediadl.engine.lookup import PATTERNS, keep_patterns
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings
from support.internals import hide_from_mediadl


def contexts(settings: Settings) -> list[Any]:
    """The TLS context of each request handler of a fresh ``YoutubeDL``."""
    with new_ydl(settings, cookies=()) as ydl:
        director = ydl.build_request_director([])
        try:
            return [h._make_sslcontext() for h in director.handlers.values()]
        finally:
            director.close()


def test_every_handler_of_every_ytdl_shares_one_verifying_context(settings: Settings) -> None:
    with new_ydl(settings, cookies=()) as ydl:
        warm_tls(ydl)
    first, second = contexts(settings), contexts(settings)
    assert TLS.state == "active"
    assert len({id(c) for c in first + second}) == 1
    assert first[0].verify_mode == ssl.CERT_REQUIRED and first[0].check_hostname


def test_without_the_internal_each_handler_makes_its_own(settings: Settings) -> None:
    with internals.disabled(TLS.name):
        first, second = contexts(settings), contexts(settings)
        assert TLS.state == "disabled"
    assert first[0] is not second[0]
    assert all(c.verify_mode == ssl.CERT_REQUIRED for c in first + second)


def test_when_yt_dlp_moved_the_options_each_handler_makes_its_own(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with internals.isolated():
        hide_from_mediadl(monkeypatch, RequestHandler, "_client_cert")
        first, second = contexts(settings), contexts(settings)
        assert TLS.state == "fallback"
    assert first[0] is not second[0]
    assert all(c.verify_mode == ssl.CERT_REQUIRED for c in first + second)


def test_the_pattern_cache_grows_to_hold_a_warm_process_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(re, "_MAXCACHE", 512)
    with internals.isolated():
        keep_patterns(4096)
        assert PATTERNS.state == "active"
    assert re._MAXCACHE == 4096  # type: ignore[attr-defined]


def test_without_the_internal_the_pattern_cache_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(re, "_MAXCACHE", 512)
    with internals.disabled(PATTERNS.name):
        keep_patterns(4096)
    assert re._MAXCACHE == 512  # type: ignore[attr-defined]
    monkeypatch.setattr(re, "_MAXCACHE", "changed")  # a newer Python that caches otherwise
    with internals.isolated():
        keep_patterns(4096)
        assert PATTERNS.state == "fallback"
        assert re._MAXCACHE == "changed"  # type: ignore[attr-defined]  # left as it is
