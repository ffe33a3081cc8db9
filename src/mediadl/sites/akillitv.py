"""Akıllı TV (akilli.tv), a Turkish video portal (ASP.NET: ``search.aspx``).

- Site: structure from AIOVD's ``akillitv`` readers (undated PHP scrapers, two generations),
  not checked live; no dated source says whether the site is still up.
- URLs: not known beyond the domain (``/video/…`` is a guess of the site list), so any page of
  the site is taken but the home page and the search; the page decides.
- Media: HTML5 ``<source src="…" type="video/mp4" data-quality="…">`` tags, one per quality;
  the ``src`` values are protocol-relative or malformed (``////host/…``), so they are normalised
  before use. ``<title>`` is the title, ``og:image`` the thumbnail.
- yt-dlp's HTML5 parsing reads neither ``data-quality`` nor a ``////`` link, hence this module.
"""

from __future__ import annotations

import re
from typing import Any

from yt_dlp.utils import extract_attributes, int_or_none, url_or_none

from .. import errors
from .base import SiteIE

__all__ = ["AkilliTvIE"]

_SOURCE = re.compile(r"<source\b[^>]*>", re.IGNORECASE)
_HEIGHT = re.compile(r"(\d{3,4})\s*p?\b", re.IGNORECASE)


class AkilliTvIE(SiteIE):
    IE_NAME = "akillitv"
    IE_DESC = "Akıllı TV"
    _HOSTS = r"(?:www\.)?akilli\.tv"
    _PATH = r"/(?!search\.aspx)(?:[^?#]*/)?(?P<id>[^/?#]+?)(?:\.aspx)?/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        webpage, handle = self._download_webpage_handle(url, video_id)
        page_url = handle.url
        formats = self._formats(webpage, page_url)
        if not formats:
            raise errors.ContentInvalid(
                "Akıllı TV's page has no video files where mediadl reads them "
                '(<source type="video/mp4" data-quality> tags): this page is not a video, or the '
                "site has changed or closed. If it plays in your browser, mediadl needs an update."
            )
        poster = self._search_regex(
            r"<video\b[^>]*\bposter=[\"']([^\"']+)", webpage, "poster", default=None
        )
        return {
            "id": video_id,
            "title": self._html_extract_title(webpage, default=None)
            or self._og_search_title(webpage, default=video_id),
            "thumbnail": self._og_search_thumbnail(webpage, default=None)
            or (self._site_join(page_url, poster) if poster else None),
            "formats": formats,
        }

    def _formats(self, webpage: str, page_url: str) -> list[dict[str, Any]]:
        """One MP4 per ``<source type="video/mp4">``, its height from ``data-quality``."""
        formats = []
        for tag in _SOURCE.findall(webpage):
            attrs = extract_attributes(tag)
            src, kind = attrs.get("src") or "", (attrs.get("type") or "").lower()
            if not src or (kind != "video/mp4" and ".mp4" not in src.lower()):
                continue
            link = url_or_none(self._site_join(page_url, src))
            quality = attrs.get("data-quality") or ""
            found = _HEIGHT.search(quality)
            height = int_or_none(found.group(1)) if found else None
            if link:
                fmt_id = f"{height}p" if height else (quality or None)
                formats.append({"url": link, "ext": "mp4", "height": height, "format_id": fmt_id})
        return formats
