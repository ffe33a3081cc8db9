"""The service name a cobalt client shows: in error dialogs (``context.service``) and file names.

cobalt names a site by the second-level domain it knows it under (``youtube``, ``twitter``,
``bsky`` shown as ``bluesky``; ``api/src/processing/service-config.js`` and
``service-alias.js``), lowercase. mediadl reads far more sites than cobalt does, so:

1. a host cobalt knows → cobalt's name (``youtu.be`` → ``youtube``, ``x.com`` → ``twitter``);
2. a site yt-dlp has an extractor for → that extractor's name, lowercase (``bandcamp``);
3. a page read by yt-dlp's generic extractor (an HTML5 ``<video>``, Open Graph, JSON-LD) → the
   host, without ``www.``: yt-dlp's class names (``HTML5MediaEmbed``) mean nothing to a person.

The same name is known before a page is read (from the link alone: 1, else the host), so an error
that happens before any extraction still names the service.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mediadl.models import MediaInfo

__all__ = ["service_name", "service_of_link"]

COBALT_HOSTS: dict[str, str] = {
    "bilibili.com": "bilibili",
    "bilibili.tv": "bilibili",
    "b23.tv": "bilibili",
    "bsky.app": "bluesky",
    "dailymotion.com": "dailymotion",
    "dai.ly": "dailymotion",
    "facebook.com": "facebook",
    "fb.watch": "facebook",
    "instagram.com": "instagram",
    "ddinstagram.com": "instagram",
    "loom.com": "loom",
    "newgrounds.com": "newgrounds",
    "ok.ru": "ok",
    "pinterest.com": "pinterest",
    "pin.it": "pinterest",
    "reddit.com": "reddit",
    "redd.it": "reddit",
    "rutube.ru": "rutube",
    "snapchat.com": "snapchat",
    "soundcloud.com": "soundcloud",
    "streamable.com": "streamable",
    "tiktok.com": "tiktok",
    "tumblr.com": "tumblr",
    "twitch.tv": "twitch",
    "twitter.com": "twitter",
    "x.com": "twitter",
    "vxtwitter.com": "twitter",
    "fixvx.com": "twitter",
    "vimeo.com": "vimeo",
    "vk.com": "vk",
    "vk.ru": "vk",
    "vkvideo.ru": "vk",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
}
"""Registrable domains cobalt's API recognizes (its subdomains included), and its names."""

GENERIC_EXTRACTORS = frozenset({"generic", "html5mediaembed", "quotedhtml"})
"""yt-dlp's extractors for any page (``genericembeds.py``, ``generic.py``): no site's name."""


def _host(url: str) -> str:
    try:
        host = (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _cobalt_name(host: str) -> str | None:
    labels = host.split(".")
    for start in range(len(labels) - 1):
        name = COBALT_HOSTS.get(".".join(labels[start:]))
        if name is not None:
            return name
    return None


def service_of_link(url: str) -> str | None:
    """The name for a link not read yet: cobalt's for a site it knows, else the host."""
    host = _host(url.strip())
    if not host:
        return None
    return _cobalt_name(host) or host


def service_name(info: MediaInfo, url: str | None = None) -> str:
    """The name for what a link turned out to be (``url``: the link as asked, when at hand)."""
    host = _host(info.webpage_url) or _host(url or "")
    known = _cobalt_name(host) or (_cobalt_name(_host(url)) if url else None)
    if known:
        return known
    extractor = info.site.lower()
    if extractor and extractor not in GENERIC_EXTRACTORS:
        return extractor
    return host or extractor or "generic"
