"""Helpers for the tests of mediadl's own site extractors: URL tables and a replica's engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine import Engine
from mediadl.models import Choice, MediaInfo
from mediadl.settings import Settings
from mediadl.sites.base import SiteIE
from mediadl_fixtures.replicas import ReplicaSite

__all__ = ["assert_error", "fetch", "pointed_engine", "url_table"]


def url_table(
    cls: type[SiteIE], should_match: list[str], should_not_match: list[str]
) -> list[object]:
    """``pytest.param(url, expected)`` rows: each URL and whether ``cls`` takes it."""
    return [pytest.param(url, True, id=f"match-{url}") for url in should_match] + [
        pytest.param(url, False, id=f"no-{url}") for url in should_not_match
    ]


def pointed_engine(settings: Settings, cls: type[SiteIE], replicas: ReplicaSite) -> Engine:
    """An engine with ``cls`` aimed at the replicas (ahead of yt-dlp's own extractors)."""
    return Engine(settings, [cls.pointed_at(replicas.base_url)])


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
