"""Kuaishou (kuaishou.com, China) short videos, and its short links.

URLs: ``www.kuaishou.com/short-video/<photoId>``; short links ``v.kuaishou.com/<code>`` and
``www.kuaishou.com/f/<code>`` redirect to a video page and set the ``did`` cookie on the way.

The page keeps its Apollo cache in ``window.__APOLLO_STATE__``: ``defaultClient`` maps
``VisionVideoDetailPhoto:<photoId>`` to ``caption``, ``coverUrl``, ``duration`` (ms),
``photoUrl`` (a progressive MP4), ``timestamp`` (ms), ``viewCount`` and ``realLikeCount``, and a
``VisionVideoDetailAuthor:<id>`` entry to the author's ``id`` and ``name``. Without a ``did``
cookie the site answers an empty state (the first visit sets one, so the page is asked again
with it); risk control can still answer a captcha. An image set (``photoType`` ending in
``ATLAS``) has no video. Schema changes are frequent; that the web state carries ``photoType``
is inferred from the site's API.
"""

from __future__ import annotations

import re
from typing import Any

from yt_dlp.utils import float_or_none, int_or_none, traverse_obj, url_or_none

from mediadl import errors
from mediadl.sites.base import SiteIE

__all__ = ["KuaishouIE", "KuaishouShortIE"]

_STATE = r"window\.__APOLLO_STATE__\s*="


class KuaishouIE(SiteIE):
    IE_NAME = "kuaishou"
    IE_DESC = "Kuaishou short videos"
    _HOSTS = r"(?:www\.)?kuaishou\.com"
    _PATH = r"/short-video/(?P<id>[\w-]+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        photo_id = self._match_id(url)
        host, path = self._site_parts(url)
        page_url = self._site_url(host, path.split("?")[0])
        state, webpage = self._read(page_url, photo_id, self._download_webpage(page_url, photo_id))
        return self._from_state(state, webpage, photo_id, url)

    def _read(self, page_url: str, photo_id: str, webpage: str) -> tuple[dict[str, Any], str]:
        """The page's Apollo cache, asking once more if the first visit only set a ``did``."""
        state = self._state(webpage, photo_id)
        if not state and self._get_cookies(page_url).get("did"):
            webpage = self._download_webpage(page_url, photo_id, note="Asking again with a did")
            state = self._state(webpage, photo_id)
        return state, webpage

    def _state(self, webpage: str, photo_id: str) -> dict[str, Any]:
        state = self._search_json(_STATE, webpage, "Apollo state", photo_id, default={})
        return traverse_obj(state, ("defaultClient", {dict})) or {}

    def _from_state(
        self, client: dict[str, Any], webpage: str, photo_id: str, url: str
    ) -> dict[str, Any]:
        if not client:
            raise errors.FetchForbidden(
                "Kuaishou blocked this request (anti-bot check); try again later.", url=url
            )
        photo = client.get(f"VisionVideoDetailPhoto:{photo_id}")
        if not isinstance(photo, dict):
            raise errors.ContentUnavailable(
                "This Kuaishou video was removed or never existed.", url=url
            )
        media = url_or_none(photo.get("photoUrl"))
        if not media:
            if str(photo.get("photoType") or "").endswith("ATLAS"):
                raise errors.ContentNoMedia(
                    "This Kuaishou post is a set of pictures, not a video, so there is nothing "
                    "to download.",
                    url=url,
                )
            raise errors.ContentInvalid(
                "The Kuaishou page had no video address (photoUrl); the site may have changed.",
                url=url,
            )
        author: dict[str, Any] = next(
            (v for k, v in client.items() if k.startswith("VisionVideoDetailAuthor:")), {}
        )
        return {
            "id": photo_id,
            "title": photo.get("caption") or self._html_extract_title(webpage) or photo_id,
            "uploader": traverse_obj(author, ("name", {str})),
            "uploader_id": traverse_obj(author, ("id", {str})),
            "duration": float_or_none(photo.get("duration"), scale=1000),
            "timestamp": int_or_none(photo.get("timestamp"), scale=1000),
            "thumbnail": url_or_none(photo.get("coverUrl")),
            "view_count": int_or_none(photo.get("viewCount")),
            "like_count": int_or_none(photo.get("realLikeCount")),
            "formats": [{"url": media, "ext": "mp4"}],
        }


class KuaishouShortIE(KuaishouIE):
    IE_NAME = "kuaishou:short"
    IE_DESC = "Kuaishou short links"
    _HOSTS = r"(?:v\.kuaishou\.com|(?:www\.)?kuaishou\.com)"
    # ``v.kuaishou.com/<code>``, or ``/f/<code>`` on the main host
    _PATH = r"/(?:(?<=v\.kuaishou\.com/)|f/)(?P<id>[\w-]+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        code = self._match_id(url)
        webpage, host, path = self._download_following(url, code, note="Following the short link")
        landed = re.match(KuaishouIE._PATH, path)
        if not re.fullmatch(KuaishouIE._HOSTS, host) or not landed:
            raise errors.ContentNoMedia(
                "This Kuaishou short link leads to a profile or page, not to a video.", url=url
            )
        photo_id = landed.group("id")
        page_url = self._site_url(host, path.split("?")[0])
        state, webpage = self._read(page_url, photo_id, webpage)
        return self._from_state(state, webpage, photo_id, url)
