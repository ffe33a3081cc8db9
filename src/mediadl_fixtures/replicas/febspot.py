"""Febspot replica: a KVS video page (``kt_player.js``, ``var flashvars``) whose ``get_file`` links
want the page as ``Referer`` and redirect to a storage node.

Videos: ``3218504`` (flashvars links at 240p and 360p, plus ``og:video``),
``1240735`` (``og:video`` only, as AIOVD read the site), ``3000000`` (a page with neither);
any other id is a removed video (404).

The flashvars links are plain: KVS can obfuscate them (``function/0/…``), but yt-dlp undoes that
by the position of the hash in the link's path, which a replica's ``/<host>/…`` prefix shifts.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from . import ReplicaCtx

__all__ = ["LICENSE_CODE", "VIDEOS", "routes"]

HOST = "www.febspot.com"
STORAGE = "st1.febspot.com"
LICENSE_CODE = "$603825119617282"
VIDEOS = {
    "3218504": {"240p": "/media/clip1.mp4", "360p": "/media/progressive.mp4"},
    "1240735": {"360p": "/media/progressive.mp4"},
}
TITLES = {"3218504": "Sunset over the bay", "1240735": "Old upload", "3000000": "Changed page"}


def file_hash(video_id: str, quality: str) -> str:
    """The real 32-hex ``get_file`` hash of a file (stable, so tests can name it)."""
    return (f"{int(video_id):08x}{quality.encode().hex()}" * 4)[:32]


def _get_file(ctx: ReplicaCtx, video_id: str, quality: str) -> str:
    thousands = int(video_id) // 1000 * 1000
    hashed = file_hash(video_id, quality)
    return ctx.url(HOST, f"/get_file/18/{hashed}/{thousands}/{video_id}/{video_id}_{quality}.mp4/")


def _page(ctx: ReplicaCtx, video_id: str) -> str:
    title = escape(TITLES[video_id])
    files = VIDEOS.get(video_id, {})
    preview = ctx.url(HOST, f"/contents/videos_screenshots/{video_id}/preview.jpg")
    head = f'<meta property="og:title" content="{title}">\n'
    head += f'<meta property="og:image" content="{preview}">\n'
    if files:
        head += f'<meta property="og:video" content="{_get_file(ctx, video_id, max(files))}">\n'
    player = ""
    if video_id == "3218504":
        link = [_get_file(ctx, video_id, q) for q in sorted(files)]
        player = (
            f'<script src="{ctx.url(HOST, "/player/kt_player.js?v=6.3.2")}"></script>\n'
            "<script>\n/* <![CDATA[ */\nvar flashvars = {\n"
            f"  video_id: '{video_id}', license_code: '{LICENSE_CODE}', video_title: '{title}',\n"
            f"  video_url: '{link[0]}', postfix: '.mp4', video_url_text: '240p',\n"
            f"  video_alt_url: '{link[1]}', video_alt_url_text: '360p',\n"
            f"  preview_url: '{preview}', skin: 'youtube.css', bt: 5\n}};\n"
            "var player_obj = kt_player('kt_player', "
            f"'{ctx.url(HOST, '/player/kt_player.swf?v=6.3.2')}', '100%', '100%', flashvars);\n"
            "/* ]]> */\n</script>\n"
        )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title} - Febspot</title>\n'
        f'{head}<link href="{ctx.url(HOST, f"/video/{video_id}/")}" rel="canonical"/>\n'
        f'</head><body>\n<h1>{title}</h1>\n<div id="kt_player"></div>\n{player}</body></html>\n'
    )


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def page(request: web.Request) -> web.Response:
        video_id = request.match_info["id"]
        if video_id not in TITLES:
            return web.Response(status=404, text="<h1>404 Not Found</h1>", content_type="text/html")
        return web.Response(text=_page(ctx, video_id), content_type="text/html")

    async def get_file(request: web.Request) -> web.StreamResponse:
        video_id, name = request.match_info["id"], request.match_info["name"]
        quality = name.removeprefix(f"{video_id}_").removesuffix(".mp4")
        referer = request.headers.get("Referer", "")
        if not referer.startswith(ctx.url(HOST, "/video/")):
            raise web.HTTPForbidden(text="Access denied: open the video page first")
        if request.match_info["hash"] != file_hash(video_id, quality):
            raise web.HTTPForbidden(text="Link expired")
        if quality not in VIDEOS.get(video_id, {}):
            raise web.HTTPNotFound()
        node = ctx.url(STORAGE, f"/remote_control.php?file={video_id}/{quality}&cv=1")
        raise web.HTTPFound(node)

    async def storage(request: web.Request) -> web.StreamResponse:
        video_id, _, quality = request.query.get("file", "").partition("/")
        found = VIDEOS.get(video_id, {}).get(quality)
        if found is None:
            raise web.HTTPNotFound()
        return ctx.media_file(found)

    async def preview(request: web.Request) -> web.StreamResponse:
        return ctx.media_file("/media/thumb.jpg")

    return [
        web.get(f"/{HOST}/video/{{id:\\d+}}", page),
        web.get(f"/{HOST}/video/{{id:\\d+}}/{{slug:.*}}", page),
        web.get(f"/{HOST}/get_file/{{server}}/{{hash}}/{{k}}/{{id}}/{{name}}/", get_file),
        web.get(f"/{STORAGE}/remote_control.php", storage),
        web.get(f"/{HOST}/contents/videos_screenshots/{{id}}/preview.jpg", preview),
    ]
