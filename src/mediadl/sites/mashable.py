"""Mashable's video pages (``mashable.com/video/<slug>``, an optional trailing ``/``).

Three page generations are known, and which one is live is not: each adds what it carries.

1. A JSON-LD ``VideoObject``: ``name``, ``description``, ``thumbnailUrl``, ``contentUrl``,
   ``duration``, ``uploadDate``.
2. An inline script's ``data: {…}`` object (2022): ``url`` (an MP4 at
   ``vdist.aws.mashable.com/cms/<YYYY>/<M>/<uuid prefix>/mp4/<height>.mp4``), ``title``,
   ``thumbnail_url``, ``duration`` (seconds) and ``transcoded_urls`` (an HLS ``.m3u8``, then MP4s
   named by height).
3. ``<script class="playerMetadata" type="application/json">`` (about 2019–2021):
   ``player.title``, ``player.image``, ``player.sources[].file`` (MP4s at 1080/720/480).

A page whose video is a YouTube embed is handed to yt-dlp's YouTube extractor. No login, geo
block or signing is reported.
"""

from __future__ import annotations

import re
from typing import Any

from yt_dlp.utils import (
    float_or_none,
    int_or_none,
    js_to_json,
    parse_duration,
    traverse_obj,
    unified_timestamp,
    url_or_none,
)

from mediadl import errors
from mediadl.sites.base import SiteIE

__all__ = ["MashableIE"]

_DATA_START = re.compile(r"\bdata\s*:\s*\{")
_MAX_DATA_TRIES = 20
"""How many ``data: {`` spots are tried before giving up on generation 2."""
_PLAYER_METADATA = r'<script[^>]+class=["\']playerMetadata["\'][^>]*>'
_YOUTUBE_EMBED = (
    r'<iframe[^>]+src=["\'](?P<url>(?:https?:)?//'
    r"(?:www\.)?youtube(?:-nocookie)?\.com/embed/[\w-]{11})"
)


class MashableIE(SiteIE):
    IE_NAME = "mashable"
    IE_DESC = "Mashable videos"
    _HOSTS = r"(?:www\.)?mashable\.com"
    _PATH = r"/video/(?P<id>[\w-]+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        slug = self._match_id(url)
        host, _ = self._site_parts(url)
        webpage = self._download_webpage(self._site_url(host, f"/video/{slug}"), slug)
        ld = self._json_ld_object(webpage, slug, "VideoObject") or {}
        data = self._data_object(webpage, slug)
        player = traverse_obj(
            self._search_json(_PLAYER_METADATA, webpage, "player metadata", slug, default={}),
            ("player", {dict}),
            default={},
        )
        urls = [
            ld.get("contentUrl"),
            data.get("url"),
            *traverse_obj(data, ("transcoded_urls", ..., {str})),
            *traverse_obj(player, ("sources", ..., "file", {str})),
        ]
        formats = self._formats(dict.fromkeys(u for u in map(url_or_none, urls) if u), slug)
        if not formats:
            embed = self._search_regex(_YOUTUBE_EMBED, webpage, "embed", default=None, group="url")
            if embed:
                result: dict[str, Any] = self.url_result(self._proto_relative_url(embed), "Youtube")
                return result
            raise errors.ContentInvalid(
                "The Mashable page had no video address (JSON-LD contentUrl, the player's "
                "data.url/transcoded_urls or playerMetadata sources); the site may have changed.",
                url=url,
            )
        return {
            "id": slug,
            "title": ld.get("name")
            or data.get("title")
            or player.get("title")
            or self._og_search_title(webpage, default=None)
            or slug,
            "description": ld.get("description")
            or self._og_search_description(webpage, default=None),
            "thumbnail": url_or_none(traverse_obj(ld, ("thumbnailUrl", (None, 0)), get_all=False))
            or url_or_none(data.get("thumbnail_url"))
            or url_or_none(player.get("image"))
            or self._og_search_thumbnail(webpage, default=None),
            "duration": parse_duration(ld.get("duration")) or float_or_none(data.get("duration")),
            "timestamp": unified_timestamp(ld.get("uploadDate")),
            "uploader": traverse_obj(ld, (("author", "publisher"), "name", {str}), get_all=False)
            or "Mashable",
            "formats": formats,
        }

    def _data_object(self, webpage: str, slug: str) -> dict[str, Any]:
        """The first ``data: {…}`` object literal naming a video (``url``/``transcoded_urls``)."""
        for number, found in enumerate(_DATA_START.finditer(webpage)):
            if number >= _MAX_DATA_TRIES:
                break
            obj = self._search_json(
                r"\bdata\s*:",
                webpage[found.start() :],
                "video data",
                slug,
                transform_source=js_to_json,
                default=None,
            )
            if isinstance(obj, dict) and ("url" in obj or "transcoded_urls" in obj):
                return obj
        return {}

    def _formats(self, urls: dict[str, None], slug: str) -> list[dict[str, Any]]:
        formats: list[dict[str, Any]] = []
        for media in urls:
            if ".m3u8" in media:
                formats += self._extract_m3u8_formats(
                    media, slug, "mp4", m3u8_id="hls", fatal=False
                )
            else:
                height = int_or_none(self._search_regex(r"/(\d{3,4})p?\.mp4", media, "h", None))
                format_id = f"mp4-{height or len(formats)}"
                formats.append({"url": media, "height": height, "format_id": format_id})
        return formats
