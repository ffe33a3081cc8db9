"""Mashable's video pages in their three known generations, media on ``vdist.aws.mashable.com``.

By slug: ``peppa-pig-mandarin`` (and the site list's sample) carries a JSON-LD
``VideoObject`` and the 2022 ``data: {…}``
object (an HLS master plus a 360p MP4); ``why-life-on-venus-is-better-than-mars`` only the
``data`` object (JS literal: unquoted keys, single quotes); ``who-took-the-first-selfie-ever``
only the older ``playerMetadata`` script; ``robot-boxing-embed`` only a YouTube embed;
``no-player-here`` an article with no video; any other slug is 404.
"""

from __future__ import annotations

import html
import json

from aiohttp import web

from . import ReplicaCtx

__all__ = ["CDN", "MP4_PATH", "TITLE", "routes"]

CDN = "vdist.aws.mashable.com"
FOLDER = "/cms/2026/8/3c2e1f7a"
MP4_PATH = f"{FOLDER}/mp4/360.mp4"
HLS_PATH = f"{FOLDER}/hls/master.m3u8"
THUMB_PATH = f"{FOLDER}/thumbnail.jpg"
TITLE = "Peppa Pig speaks Mandarin now"
YOUTUBE = "https://www.youtube.com/embed/OLCJYT5y8Bo"
PAGES = {
    "peppa-pig-mandarin": ("ld", "data"),
    "humanoid-robot-boxing-unitree-g1-battle": ("ld", "data"),  # the site list's sample
    "why-life-on-venus-is-better-than-mars": ("data",),
    "who-took-the-first-selfie-ever": ("player",),
    "robot-boxing-embed": ("youtube",),
    "no-player-here": (),
}


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def page(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if slug not in PAGES:
            return web.Response(
                status=404, text="<h1>Page not found</h1>", content_type="text/html"
            )
        return web.Response(text=_page(ctx, PAGES[slug]), content_type="text/html")

    async def cdn(request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(f"/{CDN}")
        if path == MP4_PATH:
            return ctx.media_file("/media/progressive.mp4")
        if path == THUMB_PATH:
            return ctx.media_file("/media/thumb.jpg")
        tail = path.removeprefix(f"{FOLDER}/hls/")
        if tail != path and ".." not in tail:
            return ctx.media_file(f"/hls/{tail}")
        raise web.HTTPNotFound()

    return [
        web.get(r"/{host:(?:www\.)?mashable\.com}/video/{slug}", page),
        web.get(r"/{host:(?:www\.)?mashable\.com}/video/{slug}/", page),
        web.get(f"/{CDN}/{{tail:.*}}", cdn),
    ]


def _page(ctx: ReplicaCtx, parts: tuple[str, ...]) -> str:
    mp4, hls, thumb = (ctx.url(CDN, p) for p in (MP4_PATH, HLS_PATH, THUMB_PATH))
    head = [
        f'<meta property="og:title" content="{html.escape(TITLE)}">',
        '<meta property="og:description" content="Oink, in a new language.">',
        # an unrelated script with a ``data:`` key first, as analytics snippets have
        "<script>window.dataLayer = [{data: {page: 'video'}}];</script>",
    ]
    body = "<article><h1>Mashable</h1></article>"
    if "ld" in parts:
        video = {
            "@context": "https://schema.org",
            "@type": "VideoObject",
            "name": TITLE,
            "description": "Oink, in a new language.",
            "thumbnailUrl": [thumb],
            "contentUrl": mp4,
            "duration": "PT1M0S",
            "uploadDate": "2026-08-14T16:00:00Z",
            "publisher": {"@type": "Organization", "name": "Mashable"},
        }
        head.append(f'<script type="application/ld+json">{json.dumps(video)}</script>')
    if "data" in parts:
        body += (
            "<script>window.player = {el: '#player', data: {"
            f"id: '3c2e1f7a', title: '{TITLE}', url: '{mp4}', thumbnail_url: '{thumb}', "
            f"duration: 60, transcoded_urls: ['{hls}', '{mp4}']"
            "}, autoplay: false};</script>"
        )
    if "player" in parts:
        meta = {"player": {"title": TITLE, "image": thumb, "sources": [{"file": mp4}]}}
        body += (
            f'<script class="playerMetadata" type="application/json">{json.dumps(meta)}</script>'
        )
    if "youtube" in parts:
        body += f'<iframe width="560" height="315" src="{YOUTUBE}" allowfullscreen></iframe>'
    return f"<!doctype html><html><head>{''.join(head)}</head><body>{body}</body></html>"
