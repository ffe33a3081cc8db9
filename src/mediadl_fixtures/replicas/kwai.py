"""Kwai's video pages and short links.

``/@<user>/video/<id>`` and ``/video/<id>`` on ``www.kwai.com``, by id:

- ``5199555880897549098``: the minified Nuxt payload (``window.__NUXT__=(function(a,b,…){return
  {…}}(…))``, repeated strings passed as arguments, URLs with ``\\u002F`` escapes) and a
  ``<video src poster>``;
- ``5221181437484916837``: the same fields in a plain JSON state (``window.__INITIAL_STATE__``),
  read by key;
- ``5200000000000000001``: a bare ``<video id="video-0" src poster>`` and a ``<title>``;
- ``5200000000000000404``: Nuxt's error page (``error.statusCode`` 404) for a removed video;
- ``5200000000000000500``: a photo object with no ``main_mv_urls`` and no ``<video>``;
- any other id: a 404.

Short links (``k.kwai.com/p/…``, ``s.kw.ai/p/…``, ``kw.ai/p/…``) answer 302 to a share URL with
tracking parameters; ``kw.ai/p/1mIGdN98`` leads to a profile. The CDN host name is a stand-in.
"""

from __future__ import annotations

import json
from string import Template

from aiohttp import web

from . import ReplicaCtx

__all__ = ["AUTHOR", "CAPTION", "CDN", "MP4_PATH", "VIDEO_ID", "routes"]

CDN = "v-cdn.kwai.net"
MP4_PATH = "/upic/2026/06/15/12/BMjAyNjA2MTUxMjA4_b_B.mp4"
OTHER_PATH = "/upic/2026/06/15/11/BMjAyNjA2MTUxMTU5_b_B.mp4"
"""A recommended video's MP4, listed in the page state before the page's own."""
THUMB_PATH = "/upic/2026/06/15/12/BMjAyNjA2MTUxMjA4_ccc.jpg"
VIDEO_ID = "5199555880897549098"
USER = "SHREKPAPORETOO"
AUTHOR = "Shrek Papo Reto"
CAPTION = "Quando a segunda-feira chega 😅 #humor"
SHORT_LINKS = {
    ("k.kwai.com", "Ab3dEf9"): f"/@{USER}/video/{VIDEO_ID}",
    ("s.kw.ai", "zL3z89CB"): f"/@{USER}/video/{VIDEO_ID}",
    ("kw.ai", "1mIGdN98"): f"/@{USER}",
}
SHARE_QUERY = "?page_source=share&short_key=zL3z89CB&timestamp=1781550538452&shareCountry=BRA"


def routes(ctx: ReplicaCtx) -> list[web.RouteDef]:
    async def video(request: web.Request) -> web.Response:
        page = _PAGES.get(request.match_info["id"])
        if page is None:
            return web.Response(status=404, text="<h1>404</h1>", content_type="text/html")
        return web.Response(text=page(ctx), content_type="text/html")

    async def profile(request: web.Request) -> web.Response:
        return web.Response(text=_html("", "<h1>Profile</h1>"), content_type="text/html")

    async def short(request: web.Request) -> web.StreamResponse:
        target = SHORT_LINKS.get((request.match_info["host"], request.match_info["code"]))
        if target is None:
            raise web.HTTPNotFound()
        raise web.HTTPFound(ctx.url("www.kwai.com", target + SHARE_QUERY))

    async def cdn(request: web.Request) -> web.StreamResponse:
        files = {
            MP4_PATH: "/media/progressive.mp4",
            OTHER_PATH: "/media/clip1.mp4",
            THUMB_PATH: "/media/thumb.jpg",
        }
        name = files.get(request.path.removeprefix(f"/{CDN}"))
        if name is None:
            raise web.HTTPNotFound()
        return ctx.media_file(name)

    return [
        web.get(r"/{host:(?:www\.|m\.)?kwai\.com}/{user:@[\w.-]+}/video/{id}", video),
        web.get(r"/{host:(?:www\.|m\.)?kwai\.com}/video/{id}", video),
        web.get(r"/{host:(?:www\.|m\.)?kwai\.com}/{user:@[\w.-]+}", profile),
        web.get(r"/{host:k\.kwai\.com|s\.kw\.ai|kw\.ai}/p/{code}", short),
        web.get(f"/{CDN}/{{tail:.*}}", cdn),
    ]


def _photo(ctx: ReplicaCtx) -> dict[str, object]:
    return {
        "photo_id": VIDEO_ID,
        "caption": CAPTION,
        "kwai_id": USER.lower(),
        "user_name": AUTHOR,
        "duration": 60,
        "width": 640,
        "height": 360,
        "main_mv_urls": [{"cdn": "v-cdn.kwai.net", "url": ctx.url(CDN, MP4_PATH)}],
        "cover_thumbnail_urls": [{"cdn": "v-cdn.kwai.net", "url": ctx.url(CDN, THUMB_PATH)}],
    }


def _escaped(value: object) -> str:
    """JSON as a page's serialiser writes it: ``/`` as ``\\u002F``."""
    return json.dumps(value, ensure_ascii=False).replace("/", "\\u002F")


_NUXT_PAYLOAD = Template(
    '(function(a,b,c,d){return {layout:"default",data:[{recommend:[{photo_id:d,'
    'main_mv_urls:$other}],photo:{photo_id:"$id",caption:c,'
    "kwai_id:a,user_name:b,duration:60,width:640,height:360,main_mv_urls:$mv,"
    "cover_thumbnail_urls:$cover},related:[{photo_id:d,caption:c}]}],fetch:{},error:null,"
    'state:{user:{kwai_id:a}}}}($kwai_id,$author,$caption,"5199555880897540000"))'
)
"""A minified Nuxt payload: repeated strings are the function's arguments."""


def _nuxt(ctx: ReplicaCtx) -> str:
    p = _photo(ctx)
    mv, cover = _escaped(p["main_mv_urls"]), _escaped(p["cover_thumbnail_urls"])
    js = _NUXT_PAYLOAD.substitute(
        id=VIDEO_ID,
        mv=mv,
        cover=cover,
        kwai_id=json.dumps(p["kwai_id"]),
        author=json.dumps(AUTHOR),
        caption=_escaped(CAPTION),
        other=_escaped([{"cdn": "v-cdn.kwai.net", "url": ctx.url(CDN, OTHER_PATH)}]),
    )
    video = f'<video id="video-0" src="{ctx.url(CDN, MP4_PATH)}"></video>'
    return _html(f"<script>window.__NUXT__={js};</script>", video)


def _plain_state(ctx: ReplicaCtx) -> str:
    state = _escaped({"video": {"feeds": [_photo(ctx)]}, "userName": AUTHOR})
    return _html(f"<script>window.__INITIAL_STATE__={state};</script>", "")


def _bare_video(ctx: ReplicaCtx) -> str:
    src, poster = ctx.url(CDN, MP4_PATH), ctx.url(CDN, THUMB_PATH)
    return _html("", f'<video id="video-0" src="{src}" poster="{poster}"></video>')


def _removed(ctx: ReplicaCtx) -> str:
    error = '{statusCode:404,message:"This video has been deleted"}'
    nuxt = f'(function(a){{return {{layout:a,data:[{{}}],error:{error}}}}}("default"))'
    return _html(f"<script>window.__NUXT__={nuxt};</script>", "")


def _no_address(ctx: ReplicaCtx) -> str:
    photo = {k: v for k, v in _photo(ctx).items() if k != "main_mv_urls"}
    nuxt = f'(function(a){{return {{layout:a,data:[{{photo:{_escaped(photo)}}}]}}}}("default"))'
    return _html(f"<script>window.__NUXT__={nuxt};</script>", "")


def _html(head: str, body: str) -> str:
    title = f"<title>{CAPTION} | Kwai</title>"
    return f"<!doctype html><html><head>{title}{head}</head><body>{body}</body></html>"


_PAGES = {
    VIDEO_ID: _nuxt,
    "5221181437484916837": _plain_state,
    "5200000000000000001": _bare_video,
    "5200000000000000404": _removed,
    "5200000000000000500": _no_address,
}
