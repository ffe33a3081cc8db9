"""The sites the page names, and the full list of everything the engine reads.

``FEATURED`` is the product's promise (``shared/SITES.md``, in its order). :func:`extractor_sites`
lists yt-dlp's working extractors, grouped by site (``youtube``, ``youtube:tab``, … → one site),
once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

__all__ = ["FEATURED", "SiteGroup", "extractor_sites"]

FEATURED: tuple[str, ...] = (
    "YouTube",
    "VK",
    "Vimeo",
    "Twitter / X",
    "Twitch",
    "Tumblr",
    "TikTok",
    "Telegram",
    "TED",
    "Streamable",
    "SoundCloud",
    "Snapchat",
    "ShareChat",
    "Rumble",
    "Reddit",
    "PuhuTV",
    "Pinterest",
    "Periscope",
    "Ok.ru",
    "MxTakatak",
    "Mixcloud",
    "Mashable",
    "LinkedIn",
    "Likee",
    "Kwai",
    "Izlesene",
    "Instagram",
    "Imgur",
    "IMDb",
    "iFunny",
    "Gaana",
    "Flickr",
    "Febspot",
    "Facebook",
    "ESPN",
    "Douyin",
    "Dailymotion",
    "BuzzFeed",
    "BluTV",
    "Blogger",
    "BitChute",
    "Bilibili",
    "Bandcamp",
    "Akıllı TV",
    "9GAG",
)

_SHORT_TITLE = 40


@dataclass(frozen=True, slots=True)
class SiteGroup:
    """One site: a display title and the names of the extractors that read it."""

    title: str
    names: tuple[str, ...]


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
