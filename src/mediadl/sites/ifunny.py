"""iFunny (ifunny.co): one post's video, never the page's other posts.

- Site: alive (yt-dlp#8006, 2023; Seal#1285, 2024). Structure from public downloaders' readers
  (IFunnySaver, iFunnyDL, youfunny, AIOVD) as of 2023–2025, not checked live.
- URLs: ``/video/<slug>-<id>`` or ``/video/<id>`` (often ``?s=cl``), ``/gif/…``,
  ``/picture/…``, the old ``/fun/<id>``; also ``br.ifunny.co``.
- Media: one MP4 at ``img.ifunny.co/videos/<64 hex>_1.mp4``, named by the ``og:video`` /
  ``og:video:url`` / ``twitter:player:stream`` meta tags, and by ``seo.video`` in the inline
  ``window.__INITIAL_STATE__`` JSON (with ``seo.title``, ``seo.image``, ``seo.videoWidth``).
- The page also plays other posts' videos (``<video data-src>``), which is why yt-dlp's generic
  extractor returns a playlist of all of them: only the meta tags and ``seo`` name the post's own.
- Uploader: the post's item in the page state carries ``creator.nick`` (the feed API's item
  shape; its place in the page is inferred).
- Some posts embed a Coub or YouTube video (yt-dlp#8006): ``og:video`` is then (inferred) the
  embed's page, handed to the extractor that reads it.
- Picture posts carry only ``og:image`` (``img.ifunny.co/images/…``): there is no video. GIF
  posts are read like videos when an MP4 is named in the same places (inferred); a GIF image
  alone is a picture.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from yt_dlp.utils import determine_ext, int_or_none, traverse_obj, url_or_none

from .. import errors
from .base import SiteIE

__all__ = ["IfunnyIE"]

_MEDIA = frozenset({"mp4", "m4v", "mov", "webm"})


class IfunnyIE(SiteIE):
    IE_NAME = "ifunny"
    IE_DESC = "iFunny"
    _HOSTS = r"(?:(?:www|br)\.)?ifunny\.co"
    _PATH = r"/(?P<kind>video|gif|picture|fun)/(?:[^/?#]*-)?(?P<id>[A-Za-z0-9]+)/?(?:[?#]|$)"
    _VIDEO_META: ClassVar[tuple[str, ...]] = ("og:video", "og:video:url", "twitter:player:stream")

    def _real_extract(self, url: str) -> dict[str, Any]:
        kind, post_id = self._match_valid_url(url).group("kind", "id")
        webpage = self._download_webpage(url, post_id)
        state = self._search_json(
            r"window\.__INITIAL_STATE__\s*=", webpage, "page state", post_id, default={}
        )
        seo = traverse_obj(state, ("seo", {dict})) or {}
        video = self._video_url(webpage, seo, url)
        if video is None:
            self._no_video(kind, webpage, seo)
        if determine_ext(video) not in _MEDIA:
            embed: dict[str, Any] = self.url_result(video)  # a Coub or YouTube embed
            return embed
        item = _post_item(state, post_id)
        return {
            "id": post_id,
            "title": self._og_search_title(webpage, default=None)
            or seo.get("title")
            or self._html_extract_title(webpage, default=None)
            or post_id,
            "uploader": traverse_obj(item, ("creator", "nick", {str})),
            "thumbnail": url_or_none(self._og_search_thumbnail(webpage, default=None))
            or url_or_none(seo.get("image")),
            "tags": traverse_obj(item, ("tags", ..., {str})) or None,
            "formats": [{"url": video, "ext": "mp4", "width": int_or_none(seo.get("videoWidth"))}],
        }

    def _video_url(self, webpage: str, seo: dict[str, Any], page_url: str) -> str | None:
        """The post's own MP4: the meta tags first, then the page state's ``seo.video``."""
        found = self._html_search_meta(self._VIDEO_META, webpage, default=None) or seo.get("video")
        if not isinstance(found, str) or not found.strip():
            return None
        absolute: str | None = url_or_none(self._site_join(page_url, found))
        return absolute

    def _no_video(self, kind: str, webpage: str, seo: dict[str, Any]) -> NoReturn:
        """Say why there is nothing to download: a picture or GIF post, or a page we can't read."""
        image = self._og_search_thumbnail(webpage, default=None) or seo.get("image") or ""
        if kind == "picture" or (kind != "video" and image):
            what = "an animated GIF" if ".gif" in str(image).lower() else "a picture"
            raise errors.ContentNoMedia(
                f"This iFunny post is {what}, not a video, so there is no video to download."
            )
        raise errors.ContentInvalid(
            "iFunny's page for this post has no video link where mediadl reads it "
            "(the og:video meta tag or the page state's seo.video). If it plays in your browser, "
            "the site has changed and mediadl needs an update."
        )


def _post_item(state: Any, post_id: str) -> dict[str, Any]:
    """The page state's own item for the post (the one whose ``id`` is the post's), if any."""
    stack = [state]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("id") == post_id and isinstance(node.get("creator"), dict):
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return {}
