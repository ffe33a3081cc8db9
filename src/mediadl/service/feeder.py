"""Loopback HTTP endpoint that hands formats to ffmpeg, fed by the service's fetcher.

ffmpeg never fetches the internet itself. Each input of a remux is registered here under a random
name and ffmpeg reads ``http://127.0.0.1:<port>/feed/<name>``; the bytes come through
:class:`ResilientStream` (the engine's fetcher, re-extraction on 403/410). A known size is
served with ``Range`` support, so ffmpeg can seek a progressive MP4 whose index sits at the end;
a segmented stream (HLS, DASH) is served as one unseekable body. The endpoint listens on
127.0.0.1 only, on its own port, apart from the public listener, and a name lives only as long as
its remux. A request whose reader goes away (ffmpeg killed because the client left, or ffmpeg
done with it) is cancelled at once, so its upstream connection closes at once too, however
slowly the site sends.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from mediadl import errors
from mediadl.models import Format
from mediadl.service.source import Opener
from mediadl.service.upstream import Refresh, ResilientStream
from mediadl.settings import Settings

__all__ = ["Feed", "Feeder"]

log = logging.getLogger("mediadl.service.feeder")


@dataclass(eq=False)
class Feed:
    """One input of one remux: a format, how to refresh it, what came of reading it."""

    fmt: Format
    refresh: Refresh | None
    received: int = 0
    """Bytes handed to ffmpeg so far (all requests)."""
    total: int | None = None
    estimate: int | None = None
    error: errors.MediadlError | None = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _refreshed: bool = False

    async def renew(self) -> Format:
        """Re-extract once for all of this feed's requests (ffmpeg may have several open)."""
        async with self._lock:
            if not self._refreshed:
                if self.refresh is None:
                    raise errors.FetchForbidden(format_id=self.fmt.id)
                self.fmt = await self.refresh()
                self._refreshed = True
        return self.fmt


class Feeder:
    """``url, forget = feeder.register(feed)``; ``start()`` once, ``close()`` at exit."""

    def __init__(self, settings: Settings, opener: Opener) -> None:
        self._settings = settings
        self._opener = opener
        self._feeds: dict[str, Feed] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feed/{name}", self._serve)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=0.5,
            handler_cancellation=True,
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
            await web.SockSite(self._runner, sock).start()
        except BaseException:
            sock.close()
            raise

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def register(self, feed: Feed) -> tuple[str, Callable[[], None]]:
        name = secrets.token_urlsafe(18)
        self._feeds[name] = feed

        def forget() -> None:
            self._feeds.pop(name, None)

        return f"http://127.0.0.1:{self.port}/feed/{name}", forget

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        feed = self._feeds.get(request.match_info["name"])
        if feed is None:
            raise web.HTTPNotFound()
        try:
            wanted = request.http_range
        except ValueError:
            wanted = slice(None, None)
        start = wanted.start if wanted.start is not None and wanted.start >= 0 else 0
        renew = feed.renew if feed.refresh is not None else None
        stream = ResilientStream(self._opener, feed.fmt, self._settings, renew)
        response: web.StreamResponse | None = None
        try:
            await stream.open(start)
            feed.total, feed.estimate = stream.total, stream.estimate
            response = await self._head(request, stream, start)
            async for chunk in stream.chunks():
                feed.received += len(chunk)
                await response.write(chunk)
            await response.write_eof()
            return response
        except errors.MediadlError as exc:
            feed.error = feed.error or exc
            log.info("feed of format %s failed: %s", feed.fmt.id, exc.code)
            raise web.HTTPBadGateway() from None
        except ConnectionResetError:  # ffmpeg had enough (it seeks, or it is done): fine
            return response or web.Response(status=499)
        finally:
            feed.opened.set()
            await stream.aclose()

    @staticmethod
    async def _head(
        request: web.Request, stream: ResilientStream, start: int
    ) -> web.StreamResponse:
        total = stream.total
        response = web.StreamResponse(status=200)
        response.content_type = "application/octet-stream"
        if total is not None:
            response.headers["Accept-Ranges"] = "bytes"
            response.content_length = max(0, total - start)
            if start > 0:
                response.set_status(206)
                response.headers["Content-Range"] = f"bytes {start}-{total - 1}/{total}"
        await response.prepare(request)
        return response
