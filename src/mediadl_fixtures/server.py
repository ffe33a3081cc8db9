"""The fixture HTTP server: a small asyncio HTTP/1.1 server with fault injection."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from . import members
from .catalog import CATALOG, PAGES
from .http import (
    UNSATISFIABLE,
    BadRequest,
    Request,
    etag_matches,
    http_date,
    not_modified,
    read_request,
    requested_range,
    response_head,
)
from .knobs import KnobError, Knobs, split_knobs
from .media import MediaSet, ensure_media
from .recipe import Recipe
from .resources import RequestRecord, Resource, SiteStats, resolve
from .throttle import TokenBucket, chunk_size

DEFAULT_HOST = "127.0.0.2"
Head = list[tuple[str, str]]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@dataclass
class _Exchange:
    """One request being answered."""

    req: Request
    writer: asyncio.StreamWriter
    path: str = "-"
    prefix: str = ""


@dataclass
class _Body:
    """How to send one response body."""

    resource: Resource
    start: int
    length: int
    buckets: list[TokenBucket] = field(default_factory=list)
    drop_at: int | None = None
    stall_at: int | None = None
    stall_secs: float = 0.0

    @property
    def plain(self) -> bool:
        return not self.buckets and self.drop_at is None and self.stall_at is None


class FixtureSite:
    """The offline fixture site. ``async with FixtureSite() as site: site.pages["video"]``.

    ``latency`` (ms), ``rate`` (bytes/s per response) and ``total_rate`` (bytes/s, all
    connections together) are server-wide defaults; per-request knobs override them
    (see :mod:`mediadl_fixtures.knobs`).
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        latency: float = 0,
        rate: int | None = None,
        total_rate: int | None = None,
        cache_dir: str | Path | None = None,
        recipe: Recipe | None = None,
        media: MediaSet | None = None,
        idle_timeout: float = 120.0,
    ) -> None:
        self.host, self.port = host, port
        self.latency, self.rate = latency, rate
        self.total_rate = total_rate
        self.recipe = media.recipe if media is not None else recipe or Recipe()
        self.cache_dir = cache_dir
        self.idle_timeout = idle_timeout
        self._media = media
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._conns: set[asyncio.Task[Any]] = set()
        self._tries: dict[tuple[str, str], int] = {}
        self._buckets: dict[int, TokenBucket] = {}
        self.stats = SiteStats()
        self._fresh = 0

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        if self._media is None:
            self._media = await asyncio.to_thread(ensure_media, self.recipe, self.cache_dir)
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._closing = True
        self._server.close()
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
        self._closing = False

    async def __aenter__(self) -> FixtureSite:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- addressing ------------------------------------------------------------------
    @property
    def mediaset(self) -> MediaSet:
        if self._media is None:
            raise RuntimeError("the site is not started")
        return self._media

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, name_or_path: str = "/", **knobs: Any) -> str:
        """Absolute URL of a catalog name (``"hls_master"``) or a path, with knobs."""
        item = CATALOG.get(name_or_path)
        path = item.path if item is not None else name_or_path
        if not path.startswith("/"):
            raise ValueError(f"not a catalog name nor an absolute path: {name_or_path!r}")
        prefix = Knobs.of(**knobs).prefix()
        return f"{self.base_url}{prefix}{path}"

    @property
    def pages(self) -> dict[str, str]:
        """Page name -> URL (see :data:`mediadl_fixtures.catalog.PAGES`)."""
        return {name: self.url(name) for name in PAGES}

    @property
    def urls(self) -> dict[str, str]:
        """Every catalog name (pages and assets) -> URL."""
        return {name: self.url(name) for name in CATALOG}

    @property
    def media(self) -> dict[str, Path]:
        """Asset name -> local file (for byte comparisons)."""
        return self.mediaset.files

    def reset_counters(self) -> None:
        """Forget tries (``fail``/``dropfirst``/``stallfirst``) and zero :attr:`stats`.

        Callable from any thread (it runs on the server's loop when that is elsewhere).
        """
        loop = self._loop
        if loop is None or not loop.is_running() or _running_loop() is loop:
            self._reset()
            return
        done = concurrent.futures.Future[None]()

        def reset_there() -> None:
            self._reset()
            done.set_result(None)

        loop.call_soon_threadsafe(reset_there)
        done.result(timeout=10)

    def _reset(self) -> None:
        self._tries.clear()
        self.stats = SiteStats()
        self._fresh = 0

    # -- connections -----------------------------------------------------------------
    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        stats = self.stats
        stats.connections_opened += 1
        self._fresh += 1  # open connections made since the counters were last reset
        stats.peak_connections = max(stats.peak_connections, self._fresh)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the client went away or stopped talking
        except asyncio.CancelledError:
            if not self._closing:
                raise
            # cancelled by close(): end normally, or asyncio logs the cancellation
        finally:
            if stats is self.stats:
                self._fresh -= 1
            if task is not None:
                self._conns.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                req = await read_request(reader, self.idle_timeout)
            except BadRequest as exc:
                req = Request("GET", "/", "HTTP/1.1", {"connection": "close"})
                await self._simple(_Exchange(req, writer), exc.status, str(exc))
                return
            if req is None or not await self._respond(_Exchange(req, writer)):
                return

    # -- requests --------------------------------------------------------------------
    async def _respond(self, ex: _Exchange) -> bool:
        """Answer one request; False when the connection must be closed."""
        req = ex.req
        ex.path = req.path
        try:
            knobs, prefix, path = split_knobs(req.path)
        except KnobError as exc:
            return await self._simple(ex, 400, str(exc))
        ex.path, ex.prefix = path, prefix
        key = (prefix, path)
        self._tries[key] = tries = self._tries.get(key, 0) + 1
        latency = knobs.latency if knobs.latency is not None else self.latency
        if latency:
            await asyncio.sleep(latency / 1000)
        if req.method not in ("GET", "HEAD"):
            return await self._simple(ex, 405, "GET and HEAD only", [("Allow", "GET, HEAD")])
        if posixpath.basename(path) in knobs.missing:
            return await self._simple(ex, 404, "missing (knob)")
        if tries <= knobs.fail:
            return await self._simple(ex, knobs.failcode, "injected", [("Retry-After", "0")])
        base = self.base_url + prefix
        inside = members.area(path)
        if inside is not None:
            area, path, needed = inside
            base += area
            if needed and not members.admitted(req.headers.get("cookie")):
                return await self._simple(ex, 403, "members only: log in first")
        res = resolve(self.mediaset, path, base)
        if res is None:
            return await self._simple(ex, 404, f"no such thing: {path}")
        return await self._send_resource(ex, res, knobs, tries - knobs.fail)

    async def _simple(
        self, ex: _Exchange, status: int, text: str, extra: Head | None = None
    ) -> bool:
        body = f"{status}: {text}\n".encode()
        head = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *(extra or []),
        ]
        self._record(ex, status)
        ex.writer.write(response_head(status, head, keep_alive=ex.req.keep_alive))
        if ex.req.method != "HEAD":
            ex.writer.write(body)
            self.stats.bytes_sent += len(body)
        await ex.writer.drain()
        return ex.req.keep_alive

    def _record(self, ex: _Exchange, status: int) -> None:
        headers = ex.req.headers
        cookies = members.cookie_names(headers.get("cookie"))
        self.stats.record(
            RequestRecord(ex.req.method, ex.path, ex.prefix, status, headers.get("range"), cookies)
        )

    async def _send_resource(
        self, ex: _Exchange, res: Resource, knobs: Knobs, attempt: int
    ) -> bool:
        req = ex.req
        head: Head = [
            ("Content-Type", res.content_type),
            ("ETag", res.etag),
            ("Last-Modified", http_date(res.mtime)),
        ]
        if not knobs.norange:
            head.append(("Accept-Ranges", "bytes"))
        if_match = req.headers.get("if-match")
        if if_match is not None and not etag_matches(if_match, res.etag, weak=False):
            return await self._simple(ex, 412, "If-Match failed")
        if not_modified(req.headers, res.etag, res.mtime):
            return await self._head_only(ex, 304, head)
        status, first, length = 200, 0, res.size
        span = (
            None if knobs.norange else requested_range(req.headers, res.size, res.etag, res.mtime)
        )
        if span == UNSATISFIABLE:
            head += [("Content-Range", f"bytes */{res.size}"), ("Content-Length", "0")]
            return await self._head_only(ex, 416, head)
        if span is not None:
            status, first, length = 206, span[0], span[1] - span[0] + 1
            head.append(("Content-Range", f"bytes {span[0]}-{span[1]}/{res.size}"))
        declared = max(0, length + (knobs.badlength or 0))
        head.append(("Content-Length", str(declared)))
        keep = req.keep_alive and declared <= length
        self._record(ex, status)
        ex.writer.write(response_head(status, head, keep_alive=keep))
        if req.method == "HEAD":
            await ex.writer.drain()
            return keep
        body = self._body_plan(res, first, min(length, declared), knobs, attempt)
        return await self._send_body(ex.writer, body) and keep

    async def _head_only(self, ex: _Exchange, status: int, head: Head) -> bool:
        self._record(ex, status)
        ex.writer.write(response_head(status, head, keep_alive=ex.req.keep_alive))
        await ex.writer.drain()
        return ex.req.keep_alive

    def _body_plan(
        self, res: Resource, first: int, length: int, knobs: Knobs, attempt: int
    ) -> _Body:
        body = _Body(res, first, length)
        rate = knobs.rate if knobs.rate is not None else self.rate
        if rate is not None:
            body.buckets.append(TokenBucket(rate))
        total = knobs.total_rate if knobs.total_rate is not None else self.total_rate
        if total is not None:
            body.buckets.append(self._shared_bucket(total))
        if knobs.drop is not None and (knobs.dropfirst is None or attempt <= knobs.dropfirst):
            body.drop_at = knobs.drop
        if knobs.stall is not None and (knobs.stallfirst is None or attempt <= knobs.stallfirst):
            body.stall_at, body.stall_secs = knobs.stall, knobs.stallsecs
        return body

    def _shared_bucket(self, rate: int) -> TokenBucket:
        if rate not in self._buckets:
            self._buckets[rate] = TokenBucket(rate)
        return self._buckets[rate]

    async def _send_body(self, writer: asyncio.StreamWriter, body: _Body) -> bool:
        """Send the body; False if it was cut short on purpose (drop)."""
        res = body.resource
        if res.file is None:
            return await self._pump(writer, body, io.BytesIO(res.data or b""))
        with res.file.open("rb") as fh:
            if body.plain and body.length:
                await writer.drain()
                loop = asyncio.get_running_loop()
                # count first: a client may see the bytes before this task resumes
                self.stats.bytes_sent += body.length
                await loop.sendfile(writer.transport, fh, body.start, body.length)
                return True
            return await self._pump(writer, body, fh)

    async def _pump(self, writer: asyncio.StreamWriter, body: _Body, src: BinaryIO) -> bool:
        src.seek(body.start)
        rates = [int(b.rate) for b in body.buckets]
        chunk = chunk_size(min(rates) if rates else None)
        sent, stall_at = 0, body.stall_at
        while sent < body.length:
            if body.drop_at is not None and sent >= body.drop_at:
                await writer.drain()
                return False
            if stall_at is not None and sent >= stall_at:
                await writer.drain()
                await asyncio.sleep(body.stall_secs)
                stall_at = None
                continue
            stops = [x for x in (body.length, body.drop_at, stall_at) if x is not None]
            data = src.read(min(chunk, min(stops) - sent))
            if not data:
                raise OSError("file shrank while serving")
            for bucket in body.buckets:
                await bucket.take(len(data))
            self.stats.bytes_sent += len(data)
            writer.write(data)
            await writer.drain()
            sent += len(data)
        await writer.drain()
        return True
