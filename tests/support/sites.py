"""Helpers for the tests of mediadl's own site extractors: URL tables, and an engine aimed at the
replicas."""

from __future__ import annotations

from collections.abc import Iterable

from mediadl.engine import Engine
from mediadl.settings import Settings
from mediadl.sites.base import SiteIE
from mediadl_fixtures.replicas import ReplicaSite

__all__ = ["assert_url_table", "replica_engine"]


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
