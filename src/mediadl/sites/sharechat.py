"""ShareChat (sharechat.com) and Moj (mojapp.in), both run by Mohalla Tech.

URLs: ``sharechat.com/video/<id>`` (often with ``?referrer=url|share``), ``sharechat.com/post/<id>``
(image and text posts, sometimes a video) and Moj's ``mojapp.in/@<user>/video/<numeric id>``.

The page carries a schema.org ``VideoObject`` in ``<script data-rh="true"
type="application/ld+json">`` (an ``ImageObject`` for a picture): ``contentUrl`` is a progressive
MP4 on ``cdn-cf.sharechat.com`` (unsigned; its query names the tenant), with ``name``,
``description``, ``thumbnail``/``thumbnailUrl`` (a string or a list), ``width``, ``height`` and
``author.name``. The same page embeds the post's JSON with ``compressedVideoUrl``, read when the
JSON-LD lacks a ``contentUrl``; ``og:video`` comes last. No login, cookie or Referer is needed.
That Moj pages share ShareChat's layout is inferred, not seen.
"""

from __future__ import annotations

import json
import re
from typing import Any

from yt_dlp.utils import int_or_none, parse_duration, traverse_obj, unified_timestamp, url_or_none

from mediadl import errors
from mediadl.sites.base import SiteIE

__all__ = ["ShareChatIE"]

_STATE_VIDEO = r'"compressedVideoUrl"\s*:\s*(?P<json>"(?:[^"\\]|\\.)*")'


class ShareChatIE(SiteIE):
    IE_NAME = "sharechat"
    IE_DESC = "ShareChat and Moj"
    _HOSTS = r"(?:www\.)?(?:sharechat\.com|mojapp\.in)"
    _PATH = r"(?:/(?:video|post)|/@[\w.-]+/video)/(?P<id>[0-9A-Za-z]+)/?(?:[?#]|$)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        host, path = self._site_parts(url)
        webpage = self._download_webpage(self._site_url(host, path), video_id)
        video = self._json_ld_object(webpage, video_id, "VideoObject") or {}
        media = (
            url_or_none(video.get("contentUrl"))
            or self._state_video_url(webpage, video_id)
            or self._og_search_video_url(webpage, default=None)
        )
        if not media:
            if not video and self._json_ld_object(webpage, video_id, "ImageObject"):
                raise errors.ContentNoMedia(
                    "This ShareChat post is a picture, not a video, so there is nothing to "
                    "download.",
                    url=url,
                )
            raise errors.ContentInvalid(
                "The ShareChat page had no video address (JSON-LD contentUrl, "
                "compressedVideoUrl or og:video); the site may have changed.",
                url=url,
            )
        return {
            "id": video_id,
            "title": (
                video.get("name")
                or video.get("description")
                or self._og_search_title(webpage, default=None)
                or f"ShareChat {video_id}"
            ),
            "description": video.get("description"),
            "uploader": traverse_obj(video, ("author", "name", {str})),
            "duration": parse_duration(video.get("duration")),
            "timestamp": unified_timestamp(video.get("uploadDate")),
            "thumbnail": self._thumbnail(video) or self._og_search_thumbnail(webpage, default=None),
            "formats": [
                {
                    "url": media,
                    "ext": "mp4",
                    "width": int_or_none(video.get("width")),
                    "height": int_or_none(video.get("height")),
                }
            ],
        }

    def _state_video_url(self, webpage: str, video_id: str) -> str | None:
        """``compressedVideoUrl`` from the post JSON in the page: of the object naming this post
        (the state lists other posts too), else the first."""
        found = [
            (webpage[webpage.rfind("{", 0, m.start()) : webpage.find("}", m.end())], m["json"])
            for m in re.finditer(_STATE_VIDEO, webpage)
        ]
        own = [raw for around, raw in found if f'"{video_id}"' in around]
        raw = (own or [raw for _, raw in found] or [None])[0]
        return url_or_none(json.loads(raw)) if raw else None

    @staticmethod
    def _thumbnail(video: dict[str, Any]) -> str | None:
        found = traverse_obj(
            video, (("thumbnailUrl", "thumbnail"), (None, ...), (None, "url"), {url_or_none})
        )
        return found[0] if found else None
