"""Kwai (kwai.com), Kuaishou's international app, and its short links.

URLs: ``www.kwai.com/@<user>/video/<19-digit id>`` (share links add tracking parameters such as
``short_key``, dropped here) and ``www.kwai.com/video/<id>``; short links
``k.kwai.com/p/<code>``, ``s.kw.ai/p/<code>`` and ``kw.ai/p/<code>`` redirect to a video page
(or to a profile, which is not a video).

The page carries its state as a minified Nuxt payload (``window.__NUXT__=(function(a,b,…){return
{…}}(…))``). The photo object in it has ``main_mv_urls[0].url`` (a progressive MP4; ``\\u002F``
escapes), ``caption``, ``kwai_id``/``user_name``, ``duration`` (seconds) and
``cover_thumbnail_urls[0].url``. The payload is read whole where it parses, else the fields are
found by key in the page text; a plain ``<video src poster>`` comes last. A removed video's page
is Nuxt's error page (``error.statusCode`` 404). No cookie or Referer is needed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from yt_dlp.utils import float_or_none, int_or_none, traverse_obj, url_or_none

from mediadl import errors
from mediadl.sites.base import SiteIE, first_with, objects_with

__all__ = ["KwaiIE", "KwaiShortIE"]


def _text_field(key: str) -> str:
    """A pattern of ``key`` (quoted or not) followed by a JSON string, in a page's text."""
    return rf'"?\b{key}"?\s*:\s*(?P<json>"(?:[^"\\]|\\.)*")'


def _first_url_of(key: str) -> str:
    """A pattern of the first ``url`` in the list of objects under ``key``, in a page's text."""
    return rf'"?\b{key}"?\s*:\s*\[\s*\{{[^\]]*?"?\burl"?\s*:\s*(?P<json>"(?:[^"\\]|\\.)*")'


_MV_URL = _first_url_of("main_mv_urls")
_COVER_URL = _first_url_of("cover_thumbnail_urls")


_DURATION = r'"?\bduration"?\s*:\s*(\d+(?:\.\d+)?)\b'


class KwaiIE(SiteIE):
    IE_NAME = "kwai"
    IE_DESC = "Kwai"
    _HOSTS = r"(?:www\.|m\.)?kwai\.com"
    _PATH = r"(?:/@[\w.-]+)?/video/(?P<id>\d+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        host, path = self._site_parts(url)
        webpage = self._download_webpage(self._site_url(host, path.split("?")[0]), video_id)
        return self._from_page(webpage, video_id, url)

    def _from_page(self, webpage: str, video_id: str, url: str) -> dict[str, Any]:
        state = self._search_nuxt_data(webpage, video_id, fatal=False, traverse=())
        if traverse_obj(state, ("error", "statusCode")) in (404, 410):
            raise errors.ContentUnavailable(
                "This Kwai video was removed or never existed.", url=url
            )
        photo = self._photo(state, video_id)
        media = traverse_obj(photo, ("main_mv_urls", 0, "url", {url_or_none})) or self._from_text(
            webpage, _MV_URL
        )
        html5 = {} if media else self._html5(url, webpage, video_id)
        if not media and not html5:
            raise errors.ContentInvalid(
                "The Kwai page had no video address (main_mv_urls in its state, or a <video> "
                "tag); the site may have changed.",
                url=url,
            )
        return {
            "id": video_id,
            "title": photo.get("caption")
            or self._from_text(webpage, _text_field("caption"))
            or self._og_search_title(webpage, default=None)
            or self._html_extract_title(webpage, default=None)
            or f"Kwai {video_id}",
            "uploader": photo.get("user_name") or self._from_text(webpage, _text_field("userName")),
            "uploader_id": photo.get("kwai_id") or self._from_text(webpage, _text_field("kwai_id")),
            "duration": float_or_none(photo.get("duration"))
            or float_or_none(self._search_regex(_DURATION, webpage, "duration", default=None)),
            "thumbnail": traverse_obj(photo, ("cover_thumbnail_urls", 0, "url", {url_or_none}))
            or self._from_text(webpage, _COVER_URL)
            or self._search_regex(r'<video[^>]+poster="([^"]+)"', webpage, "poster", None),
            **({"formats": [self._format(media, photo)]} if media else html5),
        }

    @staticmethod
    def _photo(state: dict[str, Any], video_id: str) -> dict[str, Any]:
        """The page's own photo: the one with this id, else the first (others carry URLs too)."""
        for photo in objects_with(state, "main_mv_urls"):
            if str(photo.get("photo_id")) == video_id:
                return photo
        return first_with(state, "main_mv_urls") or {}

    @staticmethod
    def _format(media: str, photo: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": media,
            "ext": "mp4",
            "width": int_or_none(photo.get("width")),
            "height": int_or_none(photo.get("height")),
        }

    def _from_text(self, webpage: str, pattern: str) -> str | None:
        """A JSON string found by its key in the page text (``\\uXXXX`` escapes decoded)."""
        raw = self._search_regex(pattern, webpage, "field", default=None, group="json")
        return str(json.loads(raw)) if raw else None

    def _html5(self, url: str, webpage: str, video_id: str) -> dict[str, Any]:
        entries = self._parse_html5_media_entries(url, webpage, video_id)
        entry: dict[str, Any] = entries[0] if entries else {}
        return entry if entry.get("formats") else {}


class KwaiShortIE(KwaiIE):
    IE_NAME = "kwai:short"
    IE_DESC = "Kwai short links"
    _HOSTS = r"(?:k\.kwai\.com|s\.kw\.ai|kw\.ai)"
    _PATH = r"/p/(?P<id>[\w-]+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        code = self._match_id(url)
        webpage, host, path = self._download_following(url, code, note="Following the short link")
        landed = re.match(KwaiIE._PATH, path)
        if not re.fullmatch(KwaiIE._HOSTS, host) or not landed:
            raise errors.ContentNoMedia(
                "This Kwai short link leads to a profile or page, not to a video.", url=url
            )
        return self._from_page(webpage, landed.group("id"), url)
