"""The hostile side of mediadl's security suite (``tests/security``), all on loopback.

* :class:`Canary` — the "internal service": a plain HTTP server on 127.0.0.3 that answers every
  request with a unique marker and counts every TCP connection it accepts. The egress guard must
  refuse *before* connecting, so a test asserts zero connections and that the marker never
  appears in anything the server sent back.
* :class:`HostileSite` — the "public" site a stranger controls, on 127.0.0.2 (the one network the
  server under test allows) next to the fixture site: redirects into the canary, pages and
  manifests that point at it, bombs, a live playlist, a huge page, a slow drip, hostile titles,
  playlists naming parts that can never be fetched (``file:``, ``concat:``…), a stream the site
  cuts once it has begun. It records the headers of every request it gets, and counts them.
"""

from __future__ import annotations

import asyncio
import gzip
import socketserver
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler
from typing import Any

from aiohttp import web

from .threaded import running_app

CANARY_HOST = "127.0.0.3"
HOSTILE_HOST = "127.0.0.2"
SLOW_DRIP_SECONDS = 30.0
LATE_REFUSAL_SECONDS = 1.5
FOREIGN_LINKS = {
    "file": "file:///etc/passwd",
    "concat": f"concat:http://{CANARY_HOST}/a.ts|file:///etc/passwd",
    "subfile": "subfile,,start,0,end,1000,,:file:///etc/passwd",
    "ftp": f"ftp://{CANARY_HOST}/x.ts",
    "gopher": f"gopher://{CANARY_HOST}:70/_x",
    "data": "data:video/mp2t;base64,R0FBQUFB",
    "crypto": f"crypto+http://{CANARY_HOST}/x.ts",
}
"""Links a manifest may name that are never fetched: other schemes, and ffmpeg's protocols."""


class Canary:
    """An internal HTTP service that must never be reached (127.0.0.3)."""

    def __init__(self) -> None:
        self.marker = f"CANARY-{uuid.uuid4().hex}"
        self.connections = 0
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = canary.marker.encode() * 64
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self) -> Any:
                accepted = super().get_request()
                canary.connections += 1
                return accepted

        self._server = Server((CANARY_HOST, 0), Handler)
        self.port = int(self._server.server_address[1])

    def url(self, path: str = "/secret") -> str:
        return f"http://{CANARY_HOST}:{self.port}{path}"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class HostileSite:
    """Malicious pages and manifests, built around the canary and the fixture site."""

    canary: Canary
    fixture_base: str
    host: str = HOSTILE_HOST
    port: int = 0
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    """Requests per path and query (``/segment.ts?from=foreign``)."""

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def app(self) -> web.Application:
        app = web.Application()
        app.middlewares.append(self._record)
        routes = {
            "/redirect/{code}": self.redirect,
            "/redirect-to/{target}": self.redirect_to,
            "/meta-refresh": self.meta_refresh,
            "/video-src": self.video_src,
            "/og-image": self.og_image,
            "/hls/internal-segments.m3u8": self.hls_internal_segments,
            "/hls/internal-key.m3u8": self.hls_internal_key,
            "/hls/internal-master.m3u8": self.hls_internal_master,
            "/hls/bomb.m3u8": self.hls_bomb,
            "/hls/live.m3u8": self.hls_live,
            "/dash/internal.mpd": self.dash_internal,
            "/dash/bomb.mpd": self.dash_bomb,
            "/huge": self.huge,
            "/gzip-bomb": self.gzip_bomb,
            "/slow": self.slow,
            "/title": self.title,
            "/plain-video": self.plain_video,
            "/segment.ts": self.segment,
            "/hls/foreign/{place}/{scheme}.m3u8": self.hls_foreign,
            "/hls/cut.m3u8": self.hls_cut,
            "/late-refusal.ts": self.late_refusal,
        }
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.seen_headers.append({k.lower(): v for k, v in request.headers.items()})
        self.hits[request.path_qs] += 1
        response: web.StreamResponse = await handler(request)
        return response

    # --- redirects ------------------------------------------------------------------------------

    async def redirect(self, request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.Response(status=code, headers={"Location": self.canary.url()})

    async def redirect_to(self, request: web.Request) -> web.Response:
        """``/redirect-to/<name>``: internal targets named by the test (localhost, decimal…)."""
        port = self.canary.port
        targets = {
            "localhost": f"http://localhost:{port}/secret",
            "decimal": f"http://2130706435:{port}/secret",
            "mapped": f"http://[::ffff:127.0.0.3]:{port}/secret",
            "ftp": f"ftp://{CANARY_HOST}:{port}/secret",
            "file": "file:///etc/passwd",
        }
        return web.Response(status=302, headers={"Location": targets[request.match_info["target"]]})

    async def meta_refresh(self, _request: web.Request) -> web.Response:
        page = f'<html><head><meta http-equiv="refresh" content="0; url={self.canary.url()}">'
        return _html(page + "<title>moved</title></head><body>moved</body></html>")

    # --- pages and manifests pointing inside ----------------------------------------------------

    async def video_src(self, _request: web.Request) -> web.Response:
        return _html(_page("internal video", f'<video src="{self.canary.url("/v.mp4")}"></video>'))

    async def og_image(self, _request: web.Request) -> web.Response:
        media = f"{self.fixture_base}/media/progressive.mp4"
        head = f'<meta property="og:image" content="{self.canary.url("/thumb.jpg")}">'
        return _html(_page("internal thumbnail", f'<video src="{media}"></video>', head))

    async def plain_video(self, _request: web.Request) -> web.Response:
        media = f"{self.fixture_base}/media/progressive.mp4"
        return _html(_page("a plain video", f'<video src="{media}"></video>'))

    async def hls_internal_segments(self, _request: web.Request) -> web.Response:
        return _m3u8(_media_playlist([self.canary.url(f"/seg{i}.ts") for i in range(3)]))

    async def hls_internal_key(self, _request: web.Request) -> web.Response:
        key = f'#EXT-X-KEY:METHOD=AES-128,URI="{self.canary.url("/key.bin")}",IV=0x1'
        return _m3u8(_media_playlist([self.url("/segment.ts")] * 3, key))

    async def hls_internal_master(self, _request: web.Request) -> web.Response:
        variant = self.canary.url("/variant.m3u8")
        lines = ["#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360", variant]
        return _m3u8("\n".join(lines) + "\n")

    async def hls_bomb(self, _request: web.Request) -> web.Response:
        return _m3u8(_media_playlist([self.url("/segment.ts")] * 5000, duration=0.1))

    async def hls_live(self, _request: web.Request) -> web.Response:
        segments = [self.url("/segment.ts")] * 3
        return _m3u8(_media_playlist(segments, ended=False, sequence=1000))

    async def segment(self, _request: web.Request) -> web.Response:
        return web.Response(body=bytes(188 * 16), content_type="video/mp2t")

    async def dash_internal(self, _request: web.Request) -> web.Response:
        return _mpd(_dash(self.canary.url("/dash/"), "PT6S", duration=2000))

    async def hls_foreign(self, request: web.Request) -> web.Response:
        """A playlist whose second segment (``segment``), key (``key``) or init section
        (``init``) is a link that can never be fetched: ``/hls/foreign/<place>/<scheme>.m3u8``.
        Its good parts are ``/segment.ts?from=foreign``: a test counts them in :attr:`hits`."""
        foreign = FOREIGN_LINKS[request.match_info["scheme"]]
        good = self.url("/segment.ts?from=foreign")
        place = request.match_info["place"]
        if place == "key":
            key = f'#EXT-X-KEY:METHOD=AES-128,URI="{foreign}",IV=0x1'
            return _m3u8(_media_playlist([good] * 3, key))
        if place == "init":
            return _m3u8(_media_playlist([good] * 3, f'#EXT-X-MAP:URI="{foreign}"'))
        return _m3u8(_media_playlist([good, foreign, good]))

    async def hls_cut(self, _request: web.Request) -> web.Response:
        """Two real segments, then one the site refuses late: a stream cut once it has begun."""
        good = [f"{self.fixture_base}/hls/plain/seg_{i:03d}.ts" for i in range(2)]
        return _m3u8(_media_playlist([*good, self.url("/late-refusal.ts")]))

    async def late_refusal(self, _request: web.Request) -> web.Response:
        await asyncio.sleep(LATE_REFUSAL_SECONDS)  # the stream's first bytes go out meanwhile
        return web.Response(status=403, text="no")

    async def dash_bomb(self, request: web.Request) -> web.Response:
        seconds = int(request.query.get("seconds", "2000"))
        return _mpd(_dash(self.url("/dash/"), f"PT{seconds}S", duration=1))

    # --- size and time ---------------------------------------------------------------------------

    async def huge(self, request: web.Request) -> web.StreamResponse:
        """200 MiB of page, made as it is sent (the test side never holds it)."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"a" * (1 << 16) + b"</p>"
        try:
            for _ in range(200 * 16):
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    async def gzip_bomb(self, _request: web.Request) -> web.Response:
        body = gzip.compress(b"<p>" + b"a" * (64 << 20), compresslevel=9)
        return web.Response(
            body=body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}
        )

    async def slow(self, request: web.Request) -> web.StreamResponse:
        """One byte every half second, for longer than any extraction may take."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        end = loop.time() + SLOW_DRIP_SECONDS
        try:
            while loop.time() < end:
                await response.write(b"<")
                await asyncio.sleep(0.5)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    async def title(self, request: web.Request) -> web.Response:
        """A video whose title (and so file name) tries header injection and path traversal."""
        hostile = request.query.get("t", '../../etc/passwd"\r\nSet-Cookie: pwned=1\r\nX-Evil: 1')
        media = f"{self.fixture_base}/media/progressive.mp4"
        head = f'<meta property="og:title" content="{escape(hostile, quote=True)}">'
        return _html(_page(hostile, f'<video src="{media}"></video>', head))


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html")


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{escape(title)}</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def _m3u8(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/vnd.apple.mpegurl")


def _mpd(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/dash+xml")


def _media_playlist(
    segments: list[str],
    *extra: str,
    ended: bool = True,
    sequence: int = 0,
    duration: float = 2.0,
) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        f"#EXT-X-MEDIA-SEQUENCE:{sequence}",
        *extra,
    ]
    for uri in segments:
        lines += [f"#EXTINF:{duration:.3f},", uri]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _dash(base: str, total: str, *, duration: int) -> str:
    """A static MPD whose one representation is cut into ``total / duration ms`` segments."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="{total}"
 minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
 <BaseURL>{base}</BaseURL>
 <Period><AdaptationSet mimeType="video/mp4" segmentAlignment="true">
  <Representation id="v" bandwidth="400000" width="640" height="360" codecs="avc1.42c01e">
   <SegmentTemplate media="s$Number$.m4s" initialization="init.mp4" duration="{duration}"
    timescale="1000" startNumber="1"/>
  </Representation></AdaptationSet></Period></MPD>
"""


@contextmanager
def running_hostile(canary: Canary, fixture_base: str) -> Iterator[HostileSite]:
    """The hostile site on 127.0.0.2 in a thread of its own."""
    site = HostileSite(canary, fixture_base)
    with running_app(site.app(), HOSTILE_HOST, "hostile-site") as port:
        site.port = port
        yield site
