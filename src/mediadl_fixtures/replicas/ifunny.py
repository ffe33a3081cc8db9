"""iFunny replica: post pages whose meta tags and ``window.__INITIAL_STATE__`` name the post's MP4
on ``img.ifunny.co``, while the page also plays other posts' videos (``<video data-src>``).

Posts: a video (``hacking-printer-xRQEhCDw9``, also reachable as ``/video/xRQEhCDw9``), a video
named only by the page state (``state-only-S7t8Ate00``), a GIF post served as MP4
(``/gif/dancing-cat-Gf1xYz2aB``), a post embedding a Coub (``embedded-Em83dCoub``; the embed's
page is a plain HTML5 player), a picture (``/picture/c40IpBpmA``), a still GIF
(``/gif/still-Gs0000000``), a page without any video data (``changed-Ch4ng3d00``); anything
else is a removed post (404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

from aiohttp import web

from . import ReplicaCtx

__all__ = ["POSTS", "routes"]

CDN = "img.ifunny.co"
HOSTS = ("ifunny.co", "br.ifunny.co")


@dataclass(frozen=True)
class Post:
    kind: str
    title: str
    nick: str
    video: str | None = None
    """File name under ``img.ifunny.co/videos/``; ``None`` for picture posts."""
    image: str = "a1b2_1.jpg"
    in_meta: bool = True
    """Whether the meta tags name the video (else only the page state does)."""


_HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
POSTS = {
    "xRQEhCDw9": Post("video", "hacking printer", "printerguy", f"{_HEX}_1.mp4"),
    "S7t8Ate00": Post("video", "state only", "stateful", f"{_HEX[::-1]}_1.mp4", in_meta=False),
    "Gf1xYz2aB": Post("gif", "dancing cat", "catfan", f"{_HEX[:60]}beef_1.mp4"),
    "c40IpBpmA": Post("picture", "a meme", "memer"),
    "Gs0000000": Post("gif", "still", "giffer", image="0c0c_1.gif"),
    "Em83dCoub": Post("video", "embedded", "coubfan", "coub:2pc24rpb"),
    "Ch4ng3d00": Post("video", "changed", "nobody", f"{_HEX[:60]}0000_1.mp4", in_meta=False),
}
MEDIA = {
    f"{_HEX}_1.mp4": "/media/progressive.mp4",
    f"{_HEX[::-1]}_1.mp4": "/media/progressive.mp4",
    f"{_HEX[:60]}beef_1.mp4": "/media/clip2.mp4",
    "other1_1.mp4": "/media/clip1.mp4",
    "other3_1.mp4": "/media/clip3.mp4",
}
"""The CDN's videos: the posts' own, and two other posts the page also plays."""


def _page(ctx: ReplicaCtx, post_id: str, post: Post) -> str:
    video = ctx.url(CDN, f"/videos/{post.video}") if post.video else None
    if post.video and post.video.startswith("coub:"):
        video = ctx.url("coub.com", f"/embed/{post.video.removeprefix('coub:')}")
    image = ctx.url(CDN, f"/images/{post.image}")
    meta = [("og:title", f"{post.title} - iFunny"), ("og:image", image)]
    if video and post.in_meta:
        meta += [("og:type", "video.other"), ("og:video", video), ("og:video:url", video)]
        meta += [("og:video:type", "video/mp4"), ("twitter:player:stream", video)]
    head = "".join(f'<meta property="{k}" content="{escape(v)}">\n' for k, v in meta)
    others = [ctx.url(CDN, f"/videos/{name}") for name in ("other1_1.mp4", "other3_1.mp4")]
    seo = {"title": post.title, "image": image, "video": video, "videoWidth": 640}
    if post_id == "Ch4ng3d00":
        seo = {"title": post.title}
    items = [{"id": post_id, "type": post.kind, "creator": {"nick": post.nick}, "tags": ["meme"]}]
    items += [{"id": f"other{n}", "type": "video", "creator": {"nick": "other"}} for n in (1, 3)]
    state = {"seo": seo, "feed": {"items": items}}
    players = "".join(f'<video data-src="{src}" muted loop></video>\n' for src in others)
    own = f'<video data-src="{video}"></video>\n' if video else f'<img src="{image}">\n'
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{escape(post.title)} - iFunny</title>\n{head}</head><body>\n"
        f'<div class="post">{own}</div>\n<div class="feed">{players}</div>\n'
        f"<script>window.__INITIAL_STATE__ = {json.dumps(state)};</script>"
        "<script>document.currentScript.previousElementSibling.remove()</script>\n"
        "</body></html>\n"
    )


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def post(request: web.Request) -> web.Response:
        post_id = request.match_info["slug"].rpartition("-")[2]
        found = POSTS.get(post_id)
        if found is None or found.kind != request.match_info["kind"]:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        return web.Response(text=_page(ctx, post_id, found), content_type="text/html")

    async def video(request: web.Request) -> web.StreamResponse:
        name = MEDIA.get(request.match_info["name"])
        if name is None:
            raise web.HTTPNotFound()
        return ctx.media_file(name)

    async def image(request: web.Request) -> web.StreamResponse:
        return ctx.media_file("/media/thumb.jpg")

    async def embed(request: web.Request) -> web.Response:
        src = ctx.url("coub.com", "/media/clip3.mp4")
        body = f'<title>A coub</title><video><source src="{src}" type="video/mp4"></video>'
        return web.Response(text=body, content_type="text/html")

    async def embed_media(request: web.Request) -> web.StreamResponse:
        return ctx.media_file("/media/clip3.mp4")

    pages = [web.get(f"/{host}/{{kind}}/{{slug}}", post) for host in HOSTS]
    return [
        *pages,
        web.get(f"/{CDN}/videos/{{name}}", video),
        web.get(f"/{CDN}/images/{{name}}", image),
        web.get("/coub.com/embed/{id}", embed),
        web.get("/coub.com/media/clip3.mp4", embed_media),
    ]
