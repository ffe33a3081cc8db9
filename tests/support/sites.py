"""Helpers for the tests of mediadl's own site extractors: URL tables, and an engine aimed at the
replicas."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine import Engine
from mediadl.models import Choice, MediaInfo
from mediadl.settings import Settings
from mediadl.sites.base import SiteIE
from mediadl_fixtures.replicas import ReplicaSite

__all__ = [
    "assert_error",
    "assert_url_table",
    "fetch",
    "pointed_engine",
    "replica_engine",
    "url_table",
]


def url_table(
    cls: type[SiteIE], should_match: list[str], should_not_match: list[str]
) -> list[object]:
    """``pytest.param(url, expected)`` rows: each URL and whether ``cls`` takes it."""
    return [pytest.param(url, True, id=f"match-{url}") for url in should_match] + [
        pytest.param(url, False, id=f"no-{url}") for url in should_not_match
    ]


def assert_url_table(
    cls: type[SiteIE], should_match: Iterable[str], should_not_match: Iterable[str]
) -> None:
    """``cls`` takes every URL of the first table and none of the second (all listed at once)."""
    missed = [url for url in should_match if not cls.suitable(url)]
    taken = [url for url in should_not_match if cls.suitable(url)]
    assert (missed, taken) == ([], [])


def replica_engine(settings: Settings, replicas: ReplicaSite, *sites: type[SiteIE]) -> Engine:
    """An engine whose own extractors are ``sites`` aimed at the replica server."""
    return Engine(settings, [site.pointed_at(replicas.base_url) for site in sites])


def pointed_engine(settings: Settings, cls: type[SiteIE], replicas: ReplicaSite) -> Engine:
    """An engine with ``cls`` aimed at the replicas (ahead of yt-dlp's own extractors)."""
    return replica_engine(settings, replicas, cls)


def fetch(engine: Engine, url: str, out: Path, choice: Choice | None = None) -> Path:
    """Resolve, plan and download ``url``; the saved file."""
    info = engine.resolve(url)
    return engine.download(engine.plan(info, choice or Choice()), out)


def assert_error(engine: Engine, url: str, code: str) -> errors.MediadlError:
    """Resolving ``url`` fails with ``code``; the error, for its message."""
    with pytest.raises(errors.MediadlError) as caught:
        info: MediaInfo = engine.resolve(url)
        del info
    assert caught.value.code == code, caught.value
    return caught.value
