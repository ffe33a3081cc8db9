"""İzlesene replica, as its pages were when youtube-dl and yt-dlp read them: ``/video/<id>``
redirects to ``/video/<slug>/<id>``, whose page sets ``window._videoObj`` with URL-encoded MP4
links (``token``/``ts`` in their query) on ``istr.izlesene.com``.

Videos: ``7599694`` (240p and 360p, adults only, uploader and counts), ``17997`` (a page of
today's kind, without ``_videoObj``), ``10519222`` (``_videoObj`` with no files); any other id
is a removed video (404).
"""

from __future__ import annotations

import json
import urllib.parse
from html import escape

from aiohttp import web

from . import ReplicaCtx

__all__ = ["VIDEOS", "routes"]

HOST = "www.izlesene.com"
CDN = "istr.izlesene.com"
SLUGS = {
    "7599694": "sevincten-cildirtan-dogum-gunu-hediyesi",
    "17997": "tarkan-dortmund-2006-konseri",
    "10519222": "ehliyetsiz-surucuden-pes-dedirten-savunma-sadece-gece-biniyorum",
}
VIDEOS = {"7599694": {"240": "/media/clip1.mp4", "360": "/media/progressive.mp4"}}
TITLE = "Sevinçten Çıldırtan Doğum Günü Hediyesi"


def _video_obj(ctx: ReplicaCtx, video_id: str) -> dict[str, object]:
    levels = [
        {
            "value": height,
            "source": urllib.parse.quote(
                ctx.url(CDN, f"/mp4/{video_id}_{height}p.mp4?token=a1b2c3&ts=1600000000"), safe=""
            ),
        }
        for height in VIDEOS.get(video_id, {})
    ]
    return {
        "videoId": int(video_id),
        "videoTitle": TITLE,
        "posterURL": ctx.url("i1.imgiz.com", f"/data/videoshots/{video_id}-sevincten.jpg"),
        "duration": 60_000,
        "media": {"level": levels},
    }


def _page(ctx: ReplicaCtx, video_id: str) -> str:
    script = ""
    if video_id != "17997":
        obj = json.dumps(_video_obj(ctx, video_id), ensure_ascii=False)
        script = f"<script>\nwindow._videoObj = {obj};\nvar adduserUsername = 'doguser';\n"
        script += "var comment_count = '12';\n</script>\n"
    return (
        '<!DOCTYPE html>\n<html lang="tr"><head><meta charset="utf-8">\n'
        f"<title>{escape(TITLE)} - İzlesene.com</title>\n"
        f'<meta property="og:title" content="{escape(TITLE)}">\n'
        '<meta property="og:description" content="Doğum günü hediyesi.">\n'
        '<meta itemprop="uploadDate" content="2014-09-30T20:06:02+03:00">\n'
        '<meta itemprop="isFamilyFriendly" content="False">\n'
        f'</head><body>\n<div id="player"></div>\n{script}'
        '<span id="videoViewCount">1.234</span>\n</body></html>\n'
    )


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def short(request: web.Request) -> web.StreamResponse:
        video_id = request.match_info["id"]
        if video_id not in SLUGS:
            return web.Response(
                status=404, text="<h1>Sayfa bulunamadı</h1>", content_type="text/html"
            )
        raise web.HTTPMovedPermanently(ctx.url(HOST, f"/video/{SLUGS[video_id]}/{video_id}"))

    async def page(request: web.Request) -> web.Response:
        video_id = request.match_info["id"]
        if SLUGS.get(video_id) != request.match_info["slug"]:
            return web.Response(
                status=404, text="<h1>Sayfa bulunamadı</h1>", content_type="text/html"
            )
        return web.Response(text=_page(ctx, video_id), content_type="text/html")

    async def media(request: web.Request) -> web.StreamResponse:
        video_id, _, height = request.match_info["name"].removesuffix("p").partition("_")
        found = VIDEOS.get(video_id, {}).get(height)
        if found is None or not {"token", "ts"} <= request.query.keys():
            raise web.HTTPForbidden()
        return ctx.media_file(found)

    async def poster(request: web.Request) -> web.StreamResponse:
        return ctx.media_file("/media/thumb.jpg")

    return [
        web.get(f"/{HOST}/video/{{id:\\d+}}", short),
        web.get(f"/{HOST}/video/{{slug}}/{{id:\\d+}}", page),
        web.get(f"/{CDN}/mp4/{{name}}.mp4", media),
        web.get("/i1.imgiz.com/data/videoshots/{name}", poster),
    ]
