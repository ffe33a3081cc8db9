"""İzlesene (izlesene.com), a Turkish video site.

- Site: structure from youtube-dl's IzleseneIE (last changed 2018) and the yt-dlp one removed
  as dead in 2026-06 (PR #16137), not checked live. yt-dlp's removal suggests today's pages may
  no longer carry this structure: then the error says so instead of guessing.
- URLs: ``/video/<slug>/<numeric id>``, ``/video/<id>``, ``/embedplayer/<id>``; ``www.`` and
  ``m.``. ``/video/<id>`` redirects to the slugged page.
- Media: the page sets ``window._videoObj = {…};``: ``videoTitle``, ``posterURL``,
  ``duration`` (ms) and ``media.level[]``, each with ``value`` (the height) and ``source`` (a
  URL-encoded MP4 link, with ``token``/``ts`` in its query).
- Elsewhere on the page: the uploader in ``adduserUsername = '…';``, the ``uploadDate`` meta,
  the view count in ``#videoViewCount``, ``comment_count = '…';`` and the
  ``isFamilyFriendly`` meta (``False``: adults only).
- Quirks: some videos were geo-restricted (youtube-dl#16407, 2018).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from yt_dlp.utils import (
    float_or_none,
    get_element_by_id,
    int_or_none,
    str_to_int,
    traverse_obj,
    unified_strdate,
    url_or_none,
)

from .. import errors
from .base import SiteIE

__all__ = ["IzleseneIE"]


class IzleseneIE(SiteIE):
    IE_NAME = "izlesene"
    IE_DESC = "İzlesene"
    _HOSTS = r"(?:(?:www|m)\.)?izlesene\.com"
    _PATH = r"/(?:video/(?:[^/?#]+/)?|embedplayer/)(?P<id>\d+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        page_url = self._site_url("www.izlesene.com", f"/video/{video_id}")
        webpage = self._download_webpage(page_url, video_id)
        video = self._search_json(
            r"(?:window\._)?videoObj\s*=", webpage, "video object", video_id, default=None
        )
        if not isinstance(video, dict):
            raise errors.ContentInvalid(
                "İzlesene's page no longer has the video data mediadl knows how to read "
                "(window._videoObj); yt-dlp dropped the site as dead in June 2026. If the video "
                "plays in your browser, mediadl needs an update."
            )
        return {
            "id": video_id,
            "title": video.get("videoTitle") or self._og_search_title(webpage, default=video_id),
            "formats": self._formats(video),
            "description": self._og_search_description(webpage, default=None),
            "thumbnail": url_or_none(video.get("posterURL"))
            or self._og_search_thumbnail(webpage, default=None),
            "duration": float_or_none(video.get("duration"), scale=1000),
            "uploader": self._search_regex(
                r"adduserUsername\s*=\s*'([^']+)'", webpage, "uploader", default=None
            ),
            "upload_date": unified_strdate(
                self._html_search_meta("uploadDate", webpage, default=None) or ""
            ),
            "view_count": str_to_int(get_element_by_id("videoViewCount", webpage)),
            "comment_count": int_or_none(
                self._search_regex(
                    r"comment_count\s*=\s*'(\d+)'", webpage, "comments", default=None
                )
            ),
            "age_limit": 18
            if self._html_search_meta("isFamilyFriendly", webpage, default=None) == "False"
            else 0,
        }

    def _formats(self, video: dict[str, Any]) -> list[dict[str, Any]]:
        """One MP4 per ``media.level[]``, its height from ``value``."""
        formats = []
        for level in traverse_obj(video, ("media", "level", lambda _, v: v["source"])):
            source = url_or_none(urllib.parse.unquote(str(level["source"])))
            height = int_or_none(level.get("value"))
            if source:
                format_id = f"{height}p" if height else "sd"
                formats.append(
                    {"url": source, "ext": "mp4", "height": height, "format_id": format_id}
                )
        if not formats:
            raise errors.ContentInvalid(
                "İzlesene's page has no video files where mediadl expects them "
                "(window._videoObj.media.level[].source)."
            )
        return formats
