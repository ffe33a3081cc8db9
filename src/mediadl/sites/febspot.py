"""Febspot (febspot.com): a Kernel Video Sharing (KVS) site, read with yt-dlp's own KVS reader.

- Site: alive (video ids near 3.2 M in 2025–2026). Structure from public downloaders' readers
  (AIOVD) and the KVS file scheme, not checked live.
- URLs: ``https://www.febspot.com/video/<numeric id>`` (``/video/<id>/<slug>/`` in KVS themes).
- Media: the page loads ``kt_player.js?v=…`` and sets ``var flashvars = {…}``: ``video_url``
  and ``video_alt_url*`` (quality in ``*_text``) are ``/get_file/<server>/<32 hex>/<id
  thousands>/<id>/<id>_<q>p.mp4/`` links, which KVS may obfuscate (``function/0/…``, undone
  with ``license_code``); ``preview_url`` is the thumbnail. The ``get_file`` links want the
  page as ``Referer``, are time-limited, and redirect to a storage node.
- The page also names one file in ``og:video`` (with ``og:image`` and ``og:title``), which is
  what AIOVD reads.

yt-dlp's generic extractor reads such a page by itself, but only after scanning it for every
other site's embeds (a sidebar embed would win) and with no named match. This module names the
site and hands the page straight to yt-dlp's KVS reader, which keeps the de-obfuscation up to
date; if that reader is gone or finds no player, the ``og:video`` link is the one format.
"""

from __future__ import annotations

import re
from typing import Any

from yt_dlp.utils import ExtractorError, parse_resolution, url_or_none

from .. import errors
from ..engine import internals
from .base import SiteIE

__all__ = ["FebspotIE"]

_KVS = internals.declare(
    "yt_dlp.extractor.generic.GenericIE._extract_kvs",
    "reads a KVS player's flashvars: every quality, obfuscated get_file links undone",
    "the page's og:video link as the only format",
)
_KVS_PLAYER = re.compile(r"/kt_player\.js\?v=\d")


class FebspotIE(SiteIE):
    IE_NAME = "febspot"
    IE_DESC = "Febspot"
    _HOSTS = r"(?:www\.)?febspot\.com"
    _PATH = r"/video/(?P<id>\d+)(?:/[^?#]*)?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        webpage = self._download_webpage(url, video_id)
        info = self._from_kvs(url, webpage, video_id) or self._from_og(url, webpage)
        if info is None:
            raise errors.ContentInvalid(
                "Febspot's page no longer has the video data mediadl knows how to read "
                "(a KVS player's flashvars or an og:video link). If the video plays in your "
                "browser, the site has changed and mediadl needs an update."
            )
        return {
            **info,
            "id": video_id,
            "title": self._og_search_title(webpage, default=None) or info.get("title") or video_id,
            "thumbnail": info.get("thumbnail") or self._og_search_thumbnail(webpage, default=None),
        }

    def _from_kvs(self, url: str, webpage: str, video_id: str) -> dict[str, Any] | None:
        """yt-dlp's reading of the KVS player, or ``None`` (no player, or the reader is gone)."""
        if not _KVS_PLAYER.search(webpage) or not _KVS.usable():
            return None
        try:
            read = self._downloader.get_info_extractor("Generic")._extract_kvs
        except AttributeError as exc:
            _KVS.fell_back(exc)
            return None
        try:
            info = read(url, webpage, video_id)
        except (ExtractorError, KeyError, TypeError):
            return None  # the page's player data is incomplete: og:video may still be there
        _KVS.worked()
        return info if isinstance(info, dict) and info.get("formats") else None

    def _from_og(self, url: str, webpage: str) -> dict[str, Any] | None:
        """The one file ``og:video`` names, fetched with the page as ``Referer``."""
        found = self._og_search_video_url(webpage, default=None)
        video = url_or_none(self._site_join(url, found)) if found else None
        if video is None:
            return None
        fmt = {"url": video, "ext": "mp4", "http_headers": {"Referer": url}}
        return {"formats": [{**fmt, **(parse_resolution(video) or {})}]}
