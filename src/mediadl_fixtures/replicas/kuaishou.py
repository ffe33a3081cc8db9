"""Kuaishou's short-video pages, its short links and its ``did`` cookie gate.

``www.kuaishou.com/short-video/<photoId>`` answers a visitor without a ``did`` cookie with an
empty shell that sets one (``Path=/``); with the cookie, the page carries
``window.__APOLLO_STATE__`` (``defaultClient`` → ``VisionVideoDetailPhoto:<id>`` and
``VisionVideoDetailAuthor:<id>``). By id: ``3x43cyvcyph57i4`` is a video; ``3xatlas0000001`` an
image set (``photoType`` ``HORIZONTAL_ATLAS``, no ``photoUrl``); ``3xbroken000001`` a video entry
without ``photoUrl``; ``3xcaptcha00001`` always the risk-control captcha shell; any other id a
state without the photo (removed). ``v.kuaishou.com/<code>`` and ``www.kuaishou.com/f/<code>``
answer 302 to the video page with share parameters, setting ``did`` on the way. The CDN host
names are stand-ins.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import ReplicaCtx

__all__ = ["AUTHOR", "CAPTION", "CDN", "MP4_PATH", "PHOTO_ID", "routes"]

CDN = "v2.kwaicdn.com"
MP4_PATH = "/upic/2026/08/12/20/BMjAyNjA4MTIyMDAx_b_B3.mp4"
THUMB_PATH = "/upic/2026/08/12/20/BMjAyNjA4MTIyMDAx_ccc.jpg"
PHOTO_ID = "3x43cyvcyph57i4"
AUTHOR_ID = "3xk8bqwzd5m9s2e"
AUTHOR = "快手小剧场"
CAPTION = "今天的晚霞 #日常"
CAPTCHA = '<div id="captcha">请完成安全验证</div>'
SHORT_LINKS = {("v.kuaishou.com", "dycMWg"), ("www.kuaishou.com", "X3t3Ee6o1L7gqHe")}
SHARE_QUERY = "?fid=0&cc=share_copylink&shareMethod=TOKEN&shareId=17817"


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def video(request: web.Request) -> web.Response:
        photo_id = request.match_info["id"]
        if "did" not in request.cookies:
            response = web.Response(text=_html(""), content_type="text/html")
            response.set_cookie("did", "web_5c8e2f0b6d2a4c1e9a7f3b2d1c0e9f8a", path="/")
            return response
        if photo_id == "3xcaptcha00001":
            return web.Response(
                text=_html('<div id="captcha">验证</div>'), content_type="text/html"
            )
        state = json.dumps({"defaultClient": _client(ctx, photo_id)}, ensure_ascii=False)
        script = f"<script>window.__APOLLO_STATE__={state};(function(){{var s;}}());</script>"
        return web.Response(text=_html(script), content_type="text/html")

    async def short(request: web.Request) -> web.StreamResponse:
        if (request.match_info["host"], request.match_info["code"]) not in SHORT_LINKS:
            raise web.HTTPNotFound()
        target = ctx.url("www.kuaishou.com", f"/short-video/{PHOTO_ID}{SHARE_QUERY}")
        response = web.HTTPFound(target)
        response.set_cookie("did", "web_0a1b2c3d4e5f60718293a4b5c6d7e8f9", path="/")
        raise response

    async def cdn(request: web.Request) -> web.StreamResponse:
        files = {MP4_PATH: "/media/progressive.mp4", THUMB_PATH: "/media/thumb.jpg"}
        name = files.get(request.path.removeprefix(f"/{CDN}"))
        if name is None:
            raise web.HTTPNotFound()
        return ctx.media_file(name)

    return [
        web.get(r"/{host:(?:www\.)?kuaishou\.com}/short-video/{id}", video),
        web.get(r"/{host:v\.kuaishou\.com}/{code}", short),
        web.get(r"/{host:www\.kuaishou\.com}/f/{code}", short),
        web.get(f"/{CDN}/{{tail:.*}}", cdn),
    ]


def _client(ctx: ReplicaCtx, photo_id: str) -> dict[str, Any]:
    client: dict[str, Any] = {"ROOT_QUERY": {"visionVideoDetail": {"status": 1}}}
    photo: dict[str, Any] = {
        "id": photo_id,
        "caption": CAPTION,
        "coverUrl": ctx.url(CDN, THUMB_PATH),
        "photoUrl": ctx.url(CDN, MP4_PATH),
        "duration": 60000,
        "timestamp": 1781550538452,
        "viewCount": "1.2万",
        "realLikeCount": 3456,
        "photoType": "VIDEO",
    }
    if photo_id == "3xatlas0000001":
        photo.update(photoType="HORIZONTAL_ATLAS", photoUrl=None)
    elif photo_id == "3xbroken000001":
        del photo["photoUrl"]
    elif photo_id != PHOTO_ID:
        return client
    client[f"VisionVideoDetailPhoto:{photo_id}"] = photo
    client[f"VisionVideoDetailAuthor:{AUTHOR_ID}"] = {"id": AUTHOR_ID, "name": AUTHOR}
    return client


def _html(body: str) -> str:
    head = "<title>快手</title>"
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
