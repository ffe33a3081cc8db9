"""The full list of everything the engine reads, for the ``/sites`` page.

The sites the page names (its "Works with" list) are :data:`mediadl.sites.catalog.CATALOG`.
:func:`own_sites` lists mediadl's own extractors; :func:`extractor_sites` lists yt-dlp's working
extractors, grouped by site (``youtube``, ``youtube:tab``, … → one site), once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

__all__ = ["SiteGroup", "extractor_sites", "own_sites"]

_SHORT_TITLE = 40


@dataclass(frozen=True, slots=True)
class SiteGroup:
    """One site: a display title and the names of the extractors that read it."""

    title: str
    names: tuple[str, ...]


@functools.cache
def own_sites() -> tuple[SiteGroup, ...]:
    """mediadl's own extractors, titled as the catalogue names their sites, in its order."""
    from mediadl.sites import extractors
    from mediadl.sites.catalog import CATALOG

    groups = []
    for ie in extractors():
        names = (str(ie.IE_NAME), ie.ie_key())
        title = next((s.title for s in CATALOG if s.extractor in names), names[0])
        groups.append(SiteGroup(title, (names[0],)))
    order = {site.title: i for i, site in enumerate(CATALOG)}
    return tuple(sorted(groups, key=lambda g: order.get(g.title, len(order))))


@functools.cache
def extractor_sites() -> tuple[SiteGroup, ...]:
    """yt-dlp's working, listed extractors grouped by site, sorted by title (~0.2 s, cached)."""
    # The engine owns yt-dlp; this read-only listing is the one other place that names it.
    from yt_dlp.extractor import gen_extractor_classes

    groups: dict[str, list[tuple[str, str | None]]] = {}
    for ie in gen_extractor_classes():
        if not ie.working() or ie.IE_DESC is False:
            continue
        name = str(ie.IE_NAME)
        desc = ie.IE_DESC if isinstance(ie.IE_DESC, str) else None
        groups.setdefault(name.split(":", 1)[0].lower(), []).append((name, desc))
    sites = [_group(base, members) for base, members in groups.items()]
    return tuple(sorted(sites, key=lambda s: (s.title.casefold(), s.names)))


def _group(base: str, members: list[tuple[str, str | None]]) -> SiteGroup:
    names = tuple(sorted(name for name, _ in members))
    own = next((desc for name, desc in members if name.lower() == base), None)
    title = own if own and len(own) <= _SHORT_TITLE and ";" not in own else names[0]
    return SiteGroup(title.split(":", 1)[0] if title == names[0] else title, names)
