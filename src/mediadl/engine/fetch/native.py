"""mediadl's own fetcher for progressive HTTP, HLS (``m3u8_native``) and DASH segment lists.

:class:`NativeFetcher` is a :class:`~mediadl.engine.fetch.base.Fetcher`: ``fetch`` blocks the
calling thread while its own event loop runs the download, and hands the format to yt-dlp's
downloaders whenever this fetcher finds it can't take it (a master or live playlist, SAMPLE-AES…).
``stream`` is the async face: the bytes of a format, in order, as soon as they are there; with a
:class:`~mediadl.engine.fetch.pool.SharedPool`, its requests reuse that pool's connections.

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
from mediadl.engine.fetch.adaptive import AdaptiveConcurrency
from mediadl.engine.fetch.base import Fetcher, FetchItem, FetchProgress, Unsupported
from mediadl.engine.fetch.client import ConnectorFactory, HttpClient, PeerCheck
from mediadl.engine.fetch.job import PROGRESSIVE_PROTOCOLS, SEGMENT_MEMORY, Job, consume
from mediadl.engine.fetch.ordering import InOrder
from mediadl.engine.fetch.output import PartFile
from mediadl.engine.fetch.pool import SharedPool
from mediadl.engine.fetch.resume import Journal, Stale
from mediadl.engine.fetch.scratch import DiskBound, stream_temp_dir, temp_prefix
from mediadl.engine.fetch.ytdlp import YtdlpFetcher
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings

__all__ = ["NATIVE_PROTOCOLS", "NativeFetcher", "handles"]

T = TypeVar("T")
MiB = 1 << 20
NATIVE_PROTOCOLS = frozenset({"http", "https", "m3u8_native", "http_dash_segments"})
INITIAL_CONCURRENCY = 2
"""Requests a download starts with; under a server-wide cap it probes one more and comes back."""
STREAM_CONCURRENCY = 1
"""Requests a progressive stream starts with: a second is asked for only once the controller sees
one more pays (a site that caps each connection). A server's tunnel of a small file from a fast
site then costs one request, not two plus a third that takes half of the first one's rest.
Segmented streams start with ``INITIAL_CONCURRENCY``: their segments are small requests of their
own, and one late segment must not hold up the ones after it."""
READ_CHUNK = 1 * MiB
STREAM_MEMORY = 1 * MiB
"""Progressive streams: memory for bytes fetched ahead of the consumer. Once half of it is the
head's, the head's request stops reading (the site is held back by TCP); pieces further ahead go
to disk past it. A server's tunnel whose client stopped reading costs about this much."""


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
        pool: SharedPool | None = None,
    ) -> None:
        self.settings = settings
        self._pool = pool
        """Connections for streams (not files: those share the process's per-host cap)."""
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
        try:
            await self._item(item, client, pace, cancel)
        except BaseException:
            if item.growing is not None:
                item.growing.stop()
            raise
        if item.growing is not None:
            item.growing.done()

    async def _item(
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
        if item.resume and item.dest.exists():  # finished by an earlier run
            if item.progress is not None:
                size = item.dest.stat().st_size
                item.progress(size, size, False)
            return
        part = PartFile(item.dest, keep=item.resume)
        journal = Journal(part.path) if item.resume else None
        try:
            job = Job(self.settings, client, item.fmt, item.progress, pace)
            try:
                await job.to_file(part, journal, item.growing)
            except Stale:
                assert journal is not None
                journal.reset()
                job = Job(self.settings, client, item.fmt, item.progress, pace)
                await job.to_file(part, journal, item.growing)
            job.tally.report()
            part.commit()
        except BaseException:
            part.discard()
            if journal is not None:
                with contextlib.suppress(OSError):
                    journal.save(force=True)
            raise
        if journal is not None:
            journal.remove()

    async def stream(
        self,
        fmt: Format,
        *,
        start: int = 0,
        cancel: CancelToken | None = None,
        progress: FetchProgress | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """The bytes of ``fmt`` from offset ``start``, in order, as soon as they arrive."""
        sent = 0
        if handles(fmt):
            try:
                native = self._native_stream(fmt, start, cancel, progress)
                async with contextlib.aclosing(native):
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

    def _client(self, *, shared_host_cap: bool = True) -> HttpClient:
        return HttpClient(self.settings, shared_host_cap=shared_host_cap, **self._network)

    def _stream_client(self) -> HttpClient:
        """A stream's requests are capped by its own pace only (see ``HttpClient``); over the
        shared pool when there is one and nothing replaces the network."""
        if self._pool is not None and not any(self._network.values()):
            return HttpClient(self.settings, shared_host_cap=False, pool=self._pool)
        return self._client(shared_host_cap=False)

    async def _native_stream(
        self, fmt: Format, start: int, cancel: CancelToken | None, progress: FetchProgress | None
    ) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        async with self._stream_client() as client:
            progressive = fmt.protocol in PROGRESSIVE_PROTOCOLS
            initial = STREAM_CONCURRENCY if progressive else INITIAL_CONCURRENCY
            job = Job(
                self.settings, client, fmt, progress, _concurrency(self.settings, initial=initial)
            )
            order = InOrder(
                first_key=start if job.progressive else 0,
                budget=STREAM_MEMORY if job.progressive else SEGMENT_MEMORY,
                spill_dir=stream_temp_dir(self.settings),
                disk_budget=self.settings.stream_disk_max,
            )
            unregister = _on_cancel(cancel, loop, lambda: order.fail(errors.Cancelled()))
            skip = 0 if job.progressive else start
            try:
                async with contextlib.aclosing(consume(order, job.to_order(order, start))) as out:
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
        with tempfile.TemporaryDirectory(prefix=temp_prefix(), dir=parent) as tmp:
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


def _concurrency(settings: Settings, *, initial: int = INITIAL_CONCURRENCY) -> AdaptiveConcurrency:
    """A download never asks for more requests at once than its host may have connections."""
    most = min(settings.fetch_connections, settings.host_connections)
    return AdaptiveConcurrency(most, initial=initial)


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
