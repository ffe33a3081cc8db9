"""mediadl's own fetcher for progressive HTTP, HLS (``m3u8_native``) and DASH segment lists.

:class:`NativeFetcher` is a :class:`~mediadl.engine.fetch.base.Fetcher`: ``fetch`` blocks the
calling thread while its own event loop runs the download, and hands the format to yt-dlp's
downloaders whenever this fetcher finds it can't take it (a master or live playlist, SAMPLE-AES…).
``stream`` is the async face: the bytes of a format, in order, as soon as they are there.

``fetch_many`` takes all the formats of one download (video and audio) together: one event loop,
one connection pool and one :class:`AdaptiveConcurrency`, so the two streams share the level the
site allows instead of each probing for it (and doubling the connections under a server-wide cap).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from aiohttp.abc import AbstractResolver

from mediadl import errors
from mediadl.engine.bounds import check_media_playlist
from mediadl.engine.fetch import crypto
from mediadl.engine.fetch.adaptive import AdaptiveConcurrency
from mediadl.engine.fetch.base import Fetcher, FetchItem, FetchProgress, Unsupported
from mediadl.engine.fetch.client import ConnectorFactory, HttpClient, PeerCheck, host_of
from mediadl.engine.fetch.dash import dash_parts
from mediadl.engine.fetch.headers import RequestHeaders
from mediadl.engine.fetch.hls import HlsOptions, parse_media_playlist
from mediadl.engine.fetch.ordering import InOrder
from mediadl.engine.fetch.output import (
    PartFile,
    Tally,
    journaled_size,
    written_segments,
    written_spans,
)
from mediadl.engine.fetch.progressive import FileSpans, Progressive, StreamSpans
from mediadl.engine.fetch.retry import Backoff
from mediadl.engine.fetch.scratch import DiskBound, stream_temp_dir
from mediadl.engine.fetch.segments import Part, Segments
from mediadl.engine.fetch.transfer import Source, fetch_small
from mediadl.engine.fetch.ytdlp import YtdlpFetcher
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings

__all__ = ["NATIVE_PROTOCOLS", "NativeFetcher", "handles"]

T = TypeVar("T")
MiB = 1 << 20
NATIVE_PROTOCOLS = frozenset({"http", "https", "m3u8_native", "http_dash_segments"})
PROGRESSIVE_PROTOCOLS = frozenset({"http", "https"})
INITIAL_CONCURRENCY = 2
"""Requests a download starts with; under a server-wide cap it probes one more and comes back."""
STREAM_WINDOW = 16 * MiB
"""Progressive streams: bytes fetched ahead of the consumer, all held in memory."""
SEGMENT_MEMORY = 4 * MiB
"""Segmented downloads: memory for parts that wait their turn; beyond it they spill to disk."""
PLAYLIST_LIMIT = 16 * MiB
READ_CHUNK = 1 * MiB


def handles(fmt: Format) -> bool:
    """Whether ``fmt``'s protocol is one this fetcher takes (it may still hand it on)."""
    return fmt.protocol in NATIVE_PROTOCOLS and not fmt.raw.get("is_live")


class NativeFetcher:
    """Fetches with mediadl's own async HTTP engine; yt-dlp is the fallback."""

    def __init__(
        self,
        settings: Settings,
        *,
        connector_factory: ConnectorFactory | None = None,
        resolver: AbstractResolver | None = None,
        peer_check: PeerCheck | None = None,
        fallback: Fetcher | None = None,
    ) -> None:
        self.settings = settings
        self._network: dict[str, Any] = {
            "connector_factory": connector_factory,
            "resolver": resolver,
            "peer_check": peer_check,
        }
        self._fallback = fallback or YtdlpFetcher(settings)

    def fetch(
        self,
        fmt: Format,
        dest: Path,
        *,
        progress: FetchProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Blocking: write all of ``fmt`` to ``dest``. Don't call it from a running event loop."""
        if not handles(fmt):
            self._fallback.fetch(fmt, dest, progress=progress, cancel=cancel)
            return
        try:
            run_sync(self.fetch_async(fmt, dest, progress=progress), cancel)
        except Unsupported:
            self._fallback.fetch(fmt, dest, progress=progress, cancel=cancel)

    def fetch_many(self, items: Sequence[FetchItem], *, cancel: CancelToken | None = None) -> None:
        """Blocking: write every item, all at once over one shared pool, or raise the first error.

        On a failure the other items stop and nothing of theirs is left either.
        """
        run_sync(self._fetch_many(items, cancel), cancel)

    async def _fetch_many(self, items: Sequence[FetchItem], cancel: CancelToken | None) -> None:
        async with self._client() as client:
            pace = _concurrency(self.settings)
            try:
                async with asyncio.TaskGroup() as group:
                    for item in items:
                        group.create_task(self._fetch_item(item, client, pace, cancel))
            except BaseExceptionGroup as failed:
                raise failed.exceptions[0] from None

    async def _fetch_item(
        self,
        item: FetchItem,
        client: HttpClient,
        pace: AdaptiveConcurrency,
        cancel: CancelToken | None,
    ) -> None:
        if handles(item.fmt):
            with contextlib.suppress(Unsupported):
                await self._to_file(item, client, pace)
                return
        await _in_thread(
            lambda inner: self._fallback.fetch(
                item.fmt, item.dest, progress=item.progress, cancel=inner
            ),
            cancel,
        )

    async def fetch_async(
        self, fmt: Format, dest: Path, *, progress: FetchProgress | None = None
    ) -> None:
        """Write all of ``fmt`` to ``dest`` (via ``dest.part``); ``Unsupported`` leaves nothing."""
        async with self._client() as client:
            await self._to_file(FetchItem(fmt, dest, progress), client, _concurrency(self.settings))

    async def _to_file(
        self, item: FetchItem, client: HttpClient, pace: AdaptiveConcurrency
    ) -> None:
        item.dest.parent.mkdir(parents=True, exist_ok=True)
        part = PartFile(item.dest, keep=item.resume)
        try:
            job = _Job(self.settings, client, item.fmt, item.progress, pace)
            await job.to_file(part, resume=item.resume)
            job.tally.report()
            part.commit()
        except BaseException:
            if item.resume:  # an interrupted run's bytes stay for the next one
                part.close()
            else:
                part.discard()
            raise

    async def stream(
        self, fmt: Format, *, start: int = 0, cancel: CancelToken | None = None
    ) -> AsyncGenerator[bytes, None]:
        """The bytes of ``fmt`` from offset ``start``, in order, as soon as they arrive."""
        sent = 0
        if handles(fmt):
            try:
                async with contextlib.aclosing(self._native_stream(fmt, start, cancel)) as native:
                    async for chunk in native:
                        sent += len(chunk)
                        yield chunk
            except Unsupported:
                if sent:
                    raise
            else:
                return
        async with contextlib.aclosing(self._fallback_stream(fmt, start, cancel)) as fallback:
            async for chunk in fallback:
                yield chunk

    def _client(self) -> HttpClient:
        return HttpClient(self.settings, **self._network)

    async def _native_stream(
        self, fmt: Format, start: int, cancel: CancelToken | None
    ) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        async with self._client() as client:
            job = _Job(self.settings, client, fmt, None, _concurrency(self.settings))
            order = InOrder(
                first_key=start if job.progressive else 0,
                budget=STREAM_WINDOW if job.progressive else SEGMENT_MEMORY,
                spill_dir=stream_temp_dir(self.settings),
                disk_budget=self.settings.stream_disk_max,
            )
            unregister = _on_cancel(cancel, loop, lambda: order.fail(errors.Cancelled()))
            skip = 0 if job.progressive else start
            try:
                async with contextlib.aclosing(_consume(order, job.to_order(order, start))) as out:
                    async for chunk in out:
                        if skip >= len(chunk):
                            skip -= len(chunk)
                            continue
                        yield chunk[skip:] if skip else chunk
                        skip = 0
            finally:
                unregister()

    async def _fallback_stream(
        self, fmt: Format, start: int, cancel: CancelToken | None
    ) -> AsyncGenerator[bytes, None]:
        """yt-dlp into a temporary file, then that file from ``start``.

        The folder is under ``data_dir/tmp``, holds at most ``stream_disk_max`` bytes (checked on
        yt-dlp's progress and, for downloaders that report none, every ``DiskBound.POLL`` seconds)
        and is removed when the stream ends, fails or is closed.
        """
        parent = stream_temp_dir(self.settings)
        with tempfile.TemporaryDirectory(prefix="stream-", dir=parent) as tmp:
            dest = Path(tmp) / f"media.{fmt.ext or 'bin'}"
            bound = DiskBound(Path(tmp), self.settings.stream_disk_max)
            await _in_thread(
                lambda inner: self._fallback.fetch(
                    fmt, dest, progress=bound.progress, cancel=inner
                ),
                cancel,
                check=bound.check,
            )
            with dest.open("rb") as source:
                source.seek(start)
                while chunk := source.read(READ_CHUNK):
                    yield chunk


class _Job:
    """One format's download: its retries, headers and size accounting, under a given pace."""

    def __init__(
        self,
        settings: Settings,
        client: HttpClient,
        fmt: Format,
        progress: FetchProgress | None,
        pace: AdaptiveConcurrency,
    ) -> None:
        self.settings, self.client, self.fmt, self.pace = settings, client, fmt, pace
        self.progressive = fmt.protocol in PROGRESSIVE_PROTOCOLS
        self.tally = Tally(progress, max_bytes=settings.max_filesize)
        self.backoff = Backoff(settings.fetch_retries)
        self.headers = RequestHeaders.of(fmt)
        self.context = {"format_id": fmt.id}

    async def to_file(self, part: PartFile, *, resume: bool = False) -> None:
        """Write the whole format to ``part``; with ``resume``, keep what an earlier run left
        (a progressive file's journaled ranges, a segmented stream's whole parts)."""
        if self.progressive:
            have = written_spans(part.dest) if resume else []
            size = journaled_size(part.dest) if resume else None
            if size is not None and have == [(0, size)]:  # all there: it only wasn't renamed
                self.tally.expect(size)
                self.tally.add(size)
                return
            await self._progressive(FileSpans(part, self.tally), have=have).run()
            return
        parts = await self._parts()
        skip, offset = written_segments(part.dest) if resume else (0, 0)
        if skip > len(parts):  # not the stream the earlier run read
            skip, offset = 0, 0
        part.restart(offset)
        order = InOrder(first_key=0, budget=SEGMENT_MEMORY, spill_dir=part.path.parent)
        journaled = 0
        producer = self._segments(order, parts[skip:])
        async with contextlib.aclosing(_consume(order, producer)) as out:
            async for chunk in out:
                if order.head_key > journaled:  # the parts before the head are all written
                    journaled = order.head_key
                    part.segments_done(skip + journaled)
                part.append(chunk)

    async def to_order(self, order: InOrder, start: int) -> None:
        if self.progressive:
            spans = StreamSpans(order, start=start, window=STREAM_WINDOW, tally=self.tally)
            await self._progressive(spans, start).run()
            return
        await self._segments(order, await self._parts())

    async def _segments(self, order: InOrder, parts: Sequence[Part]) -> None:
        await Segments(
            self.client,
            parts,
            order,
            headers_for=self.headers,
            context=self.context,
            pace=self.pace,
            backoff=self.backoff,
            tally=self.tally,
            ahead=2 * self.settings.fetch_connections,
        ).run()

    def _progressive(
        self,
        output: FileSpans | StreamSpans,
        start: int = 0,
        have: Sequence[tuple[int, int]] = (),
    ) -> Progressive:
        url = self.fmt.url
        source = Source(url, self.headers, {**self.context, "host": host_of(url)})
        return Progressive(
            self.client,
            source,
            output,
            pace=self.pace,
            backoff=self.backoff,
            tally=self.tally,
            start=start,
            have=have,
            max_piece=_chunk_size(self.fmt),
        )

    async def _parts(self) -> list[Part]:
        raw = self.fmt.raw
        if self.fmt.protocol == "http_dash_segments":
            return dash_parts({"url": self.fmt.url, **raw})
        text, url = _text(raw.get("hls_media_playlist_data")), self.fmt.url
        if text is None:
            source = Source(url, self.headers, {**self.context, "fragment": "playlist"})
            body, url = await fetch_small(
                self.client,
                source,
                backoff=self.backoff,
                limit=min(PLAYLIST_LIMIT, self.settings.max_page_size),
            )
            text = body.decode("utf-8", "replace")
        check_media_playlist(text, self.settings)  # segments, live: before parsing
        parts = parse_media_playlist(text, url, _hls_options(raw))
        if not crypto.available() and any(p.key is not None for p in parts):
            raise Unsupported("AES-128 without the cryptography package")
        return parts


async def _consume(
    order: InOrder, producer: Coroutine[Any, Any, None]
) -> AsyncGenerator[bytes, None]:
    """Run ``producer`` filling ``order`` and yield ``order``'s bytes; either failing stops both."""
    task = asyncio.get_running_loop().create_task(producer)

    def done(finished: asyncio.Task[None]) -> None:
        if not finished.cancelled() and finished.exception() is not None:
            order.fail(finished.exception() or RuntimeError())

    task.add_done_callback(done)
    try:
        async for chunk in order.chunks():
            yield chunk
        await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(task, return_exceptions=True)
        order.close()


def _concurrency(settings: Settings) -> AdaptiveConcurrency:
    return AdaptiveConcurrency(settings.fetch_connections, initial=INITIAL_CONCURRENCY)


async def _in_thread(
    work: Callable[[CancelToken], None],
    cancel: CancelToken | None,
    *,
    check: Callable[[], None] | None = None,
) -> None:
    """Run blocking ``work`` in a thread; cancelling the task (or ``cancel``) stops it too.

    ``check`` runs every ``DiskBound.POLL`` seconds meanwhile; what it raises stops the work
    (which is waited for, so nothing it writes outlives the call) and is raised.
    """
    inner = CancelToken()
    unregister = cancel.on_cancel(inner.cancel) if cancel is not None else _nothing
    job = asyncio.get_running_loop().run_in_executor(None, work, inner)
    try:
        while not (await asyncio.wait({job}, timeout=DiskBound.POLL if check else None))[0]:
            if check is not None:
                check()
        job.result()
    except BaseException:
        if not job.done():
            inner.cancel()
            with contextlib.suppress(BaseException):
                await job
        raise
    finally:
        unregister()


def run_sync(work: Coroutine[Any, Any, T], cancel: CancelToken | None) -> T:
    """Run ``work`` on a fresh event loop in this thread; ``cancel`` stops it within a moment."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_cancellable(work, cancel))


async def _cancellable(work: Awaitable[T], cancel: CancelToken | None) -> T:
    if cancel is None:
        return await work
    task = asyncio.current_task()
    assert task is not None
    unregister = _on_cancel(cancel, asyncio.get_running_loop(), task.cancel)
    try:
        return await work
    except asyncio.CancelledError:
        if cancel.cancelled:
            raise errors.Cancelled() from None
        raise
    finally:
        unregister()


def _on_cancel(
    cancel: CancelToken | None, loop: asyncio.AbstractEventLoop, action: Callable[[], object]
) -> Callable[[], None]:
    """Run ``action`` on ``loop`` when ``cancel`` fires (from any thread)."""
    if cancel is None:
        return _nothing

    def fire() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(action)

    return cancel.on_cancel(fire)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _nothing() -> None:
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _chunk_size(fmt: Format) -> int | None:
    """yt-dlp's ``http_chunk_size``: sites that throttle requests larger than this."""
    options = fmt.raw.get("downloader_options")
    size = options.get("http_chunk_size") if isinstance(options, dict) else None
    return size if isinstance(size, int) and size > 0 else None


def _hls_options(raw: Any) -> HlsOptions:
    aes = raw.get("hls_aes") if isinstance(raw.get("hls_aes"), dict) else {}
    key, iv = _text(aes.get("key")), _text(aes.get("iv"))
    return HlsOptions(
        format_index=raw.get("format_index") if isinstance(raw.get("format_index"), int) else None,
        segment_query=_text(raw.get("extra_param_to_segment_url")),
        key_query=_text(raw.get("extra_param_to_key_url")),
        key=bytes.fromhex(key.removeprefix("0x")) if key else None,
        iv=bytes.fromhex(iv.removeprefix("0x").zfill(32)) if iv else None,
        key_uri=_text(aes.get("uri")),
    )
