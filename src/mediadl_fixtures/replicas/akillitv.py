"""Akıllı TV replica, as AIOVD's readers describe its pages: one ``<source type="video/mp4"
data-quality>`` per quality, highest first, with protocol-relative (``//``) and malformed
(``////``) links; ``<title>`` and ``og:image``. The CDN host name is made up (none is known).

Pages: ``/video/kukuli-1-bolum`` (360p and 240p); ``/video/park`` (a page with no player, as a
parked or redesigned site would serve); anything else is a removed page (404).
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from . import ReplicaCtx

__all__ = ["TITLE", "routes"]

HOST = "www.akilli.tv"
CDN = "video.akilli.tv"
TITLE = "Kukuli 1. Bölüm"
FILES = {"kukuli_360.mp4": "/media/progressive.mp4", "kukuli_240.mp4": "/media/clip1.mp4"}


def _page(ctx: ReplicaCtx, player: bool) -> str:
    def relative(name: str, slashes: str) -> str:
        return slashes + ctx.url(CDN, f"/mp4/{name}").removeprefix("http://")

    tags = [
        f'<source src="{relative(f"kukuli_{height}.mp4", slashes)}" type="video/mp4" '
        f'data-quality="{height}p">\n'
        for height, slashes in ((360, "////"), (240, "//"))
    ]
    poster = relative("poster.jpg", "//")
    sources = f'<video id="player" controls poster="{poster}">\n{"".join(tags)}</video>\n'

    return (
        '<!DOCTYPE html>\n<html lang="tr"><head><meta charset="utf-8">\n'
        f"<title>{escape(TITLE)}</title>\n"
        f'<meta property="og:image" content="{ctx.url(CDN, "/img/kukuli.jpg")}">\n'
        '</head><body>\n<form method="post" action="./video.aspx" id="form1">\n'
        f'<input type="hidden" name="__VIEWSTATE" value="/wEPDwUKMTY1">\n'
        f"{sources if player else '<p>Yakında</p>'}</form>\n</body></html>\n"
    )


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def page(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if slug not in ("kukuli-1-bolum", "park"):
            return web.Response(
                status=404, text="<h1>Sayfa bulunamadı</h1>", content_type="text/html"
            )
        return web.Response(text=_page(ctx, slug != "park"), content_type="text/html")

    async def media(request: web.Request) -> web.StreamResponse:
        found = FILES.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return ctx.media_file(found)

    async def image(request: web.Request) -> web.StreamResponse:
        return ctx.media_file("/media/thumb.jpg")

    return [
        web.get(f"/{HOST}/video/{{slug}}", page),
        web.get(f"/{CDN}/mp4/{{name}}", media),
        web.get(f"/{CDN}/img/{{name}}", image),
    ]
