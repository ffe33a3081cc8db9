"""ShareChat and Moj as their pages are described: a ``data-rh`` JSON-LD ``VideoObject`` whose
``contentUrl`` is an MP4 on ``cdn-cf.sharechat.com``, the post JSON (``compressedVideoUrl``) in the
page state, and ``og:video`` meta tags.

Posts by id: ``nZaw4XM`` has all three; ``StateOnly`` has a ``VideoObject`` without
``contentUrl`` and the media only in the page state (its URL written with ``\\u002F`` escapes, as
serialised state is); ``OgOnly`` only the ``og:video`` tags; ``post/PicPost`` is a picture (an
``ImageObject``); ``Broken1`` names a video but gives no address; any other id is a removed post
(404). Moj (``mojapp.in/@<user>/video/<id>``) serves the same posts by id.
"""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web

from . import ReplicaCtx

__all__ = ["CDN_PATH", "POSTS", "routes"]

CDN = "cdn-cf.sharechat.com"
CDN_PATH = "/sc-video/contents/sc_1234/compressed/5f0c2b8e9d.mp4"
OTHER_PATH = "/sc-video/contents/sc_1234/compressed/77aa01c3e2.mp4"
"""Another post's MP4, listed in the page state before the page's own."""
THUMB_PATH = "/sc-image/contents/sc_1234/thumb.jpg"
CDN_QUERY = "?tenant=sc&referrer=pwa-sharechat-service&f=5f0c2b8e9d.mp4"
TITLE = "ಮಳೆಗಾಲದ ಸಂಜೆ · monsoon evening"
AUTHOR = "Raju Creations"

POSTS: dict[str, set[str]] = {
    "nZaw4XM": {"contentUrl", "state", "og"},
    "2791694826": {"contentUrl", "state", "og"},
    "StateOnly": {"state"},
    "OgOnly": {"og"},
    "PicPost": {"image"},
    "Broken1": set(),
}
"""What each post's page carries."""


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def post(request: web.Request) -> web.Response:
        post_id = request.match_info["id"]
        if post_id not in POSTS:
            return web.Response(status=404, text=_not_found(), content_type="text/html")
        return web.Response(text=_page(ctx, post_id), content_type="text/html")

    async def cdn(request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(f"/{CDN}")
        if path == THUMB_PATH:
            return ctx.media_file("/media/thumb.jpg")
        files = {CDN_PATH: "/media/progressive.mp4", OTHER_PATH: "/media/clip1.mp4"}
        if path not in files or request.query.get("tenant") != "sc":
            raise web.HTTPForbidden()
        return ctx.media_file(files[path])

    return [
        web.get(r"/{host:(?:www\.)?sharechat\.com}/{kind:video|post}/{id}", post),
        web.get(r"/{host:(?:www\.)?mojapp\.in}/{user:@[\w.-]+}/video/{id}", post),
        web.get(f"/{CDN}/{{tail:.*}}", cdn),
    ]


def _page(ctx: ReplicaCtx, post_id: str) -> str:
    parts = POSTS[post_id]
    media = ctx.url(CDN, CDN_PATH + CDN_QUERY)
    thumb = ctx.url(CDN, THUMB_PATH)
    head = [f"<title>{html.escape(TITLE)} | ShareChat</title>"]
    if "image" in parts:
        head.append(_json_ld({"@type": "ImageObject", "contentUrl": thumb, "name": TITLE}))
    elif parts != {"og"}:
        video: dict[str, Any] = {
            "@type": "VideoObject",
            "name": TITLE,
            "description": f"{TITLE} #rain",
            "thumbnail": [thumb],
            "width": 640,
            "height": 360,
            "duration": "PT1M",
            "uploadDate": "2024-10-05T09:30:00+05:30",
            "author": {"@type": "Person", "name": AUTHOR},
        }
        if "contentUrl" in parts:
            video["contentUrl"] = media
        head.append(_json_ld(video))
    if "og" in parts:
        head += [
            f'<meta property="og:title" content="{html.escape(TITLE)}">',
            f'<meta property="og:video" content="{html.escape(media)}">',
            '<meta property="og:video:type" content="video/mp4">',
            f'<meta property="og:image" content="{html.escape(thumb)}">',
        ]
    body = '<div id="root"></div>'
    if "state" in parts:
        other = ctx.url(CDN, OTHER_PATH + CDN_QUERY)
        posts: dict[str, dict[str, Any]] = {
            "aRelated1": {"postId": "aRelated1", "type": "video", "compressedVideoUrl": other},
            post_id: {"postId": post_id, "type": "video", "compressedVideoUrl": media},
        }
        for post in posts.values():
            post["videoCompressedSize"] = 6543210
        state = json.dumps({"posts": posts}).replace("/", "\\u002F")
        body += f"<script>window.__INITIAL_STATE__ = {state};</script>"
    return f"<!doctype html><html><head>{''.join(head)}</head><body>{body}</body></html>"


def _json_ld(obj: dict[str, Any]) -> str:
    data = json.dumps({"@context": "https://schema.org", **obj}, ensure_ascii=False)
    return f'<script data-rh="true" type="application/ld+json">{data}</script>'


def _not_found() -> str:
    return "<!doctype html><html><head><title>ShareChat</title></head><body>Post not found</body>"
