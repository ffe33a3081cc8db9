"""Extraction for the server: in worker threads, cached per normalized URL, shared while in flight.

yt-dlp blocks for a page load or more, so it never runs on the event loop. Identical requests
arriving together wait on one extraction (``async-lru`` shares the running task); a result is kept
``resolve_cache_ttl`` seconds; failures are never cached.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from concurrent.futures import Executor

from async_lru import alru_cache

from mediadl import errors
from mediadl.engine import Engine, normalize_url
from mediadl.engine.sandbox import ExtractorPool
from mediadl.models import MediaInfo
from mediadl.service.logs import redact_url
from mediadl.service.metrics import Metrics
from mediadl.service.problems import said_less

__all__ = ["Resolver"]

log = logging.getLogger("mediadl.service.resolve")

CACHE_SIZE = 512
_normalized = functools.lru_cache(maxsize=4 * CACHE_SIZE)(normalize_url)
"""The same links come back on every tunnel of them: checked and brought to one form once (a
refused link raises each time, nothing of it is kept)."""


class Resolver:
    """``await resolver.resolve(url)``: a ``MediaInfo``, from the cache when fresh."""

    def __init__(
        self,
        engine: Engine,
        executor: Executor,
        *,
        pool: ExtractorPool | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.engine = engine
        self._metrics = metrics
        self._executor = executor
        self._pool = pool
        """Where extractions run when given: killable child processes (the server's bound)."""
        ttl = engine.settings.resolve_cache_ttl
        self._cached = alru_cache(maxsize=CACHE_SIZE, ttl=ttl)(self._extract)
        self._starting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the extraction processes in the background (the warm forkserver takes seconds,
        then the spares wait set up), so the first link doesn't wait for them."""
        if self._pool is not None and self._starting is None:
            self._starting = asyncio.create_task(self._start_pool(self._pool))

    @staticmethod
    async def _start_pool(pool: ExtractorPool) -> None:
        try:
            await pool.start()
        except Exception:  # the first resolve tries again
            log.exception("starting the extraction processes failed")

    async def resolve(self, url: str, *, playlist: bool = True) -> MediaInfo:
        return await self._cached(_normalized(url), playlist)

    async def resolve_item(self, url: str, item: int | None) -> MediaInfo:
        """The info of ``url`` or, with ``item`` (1-based), of that entry of it."""
        info = await self.resolve(url)
        if item is None:
            return info
        if not info.is_playlist:
            if item == 1:
                return info
            raise errors.ContentUnavailable("This link has one item only.", item=item)
        if not 1 <= item <= len(info.entries):
            raise errors.ContentUnavailable(
                f"This link has {len(info.entries)} items; there is no item {item}.", item=item
            )
        entry = info.entries[item - 1]
        if entry.info is not None:
            return entry.info
        return await self.resolve(entry.url, playlist=False)

    def forget(self, url: str) -> None:
        """Drop what was cached for ``url`` (and its entry), e.g. once its media links expired."""
        key = _normalized(url)
        for playlist in (True, False):
            self._cached.cache_invalidate(key, playlist)

    async def forget_item(self, url: str, item: int | None) -> None:
        """Forget ``url`` and, for a playlist entry resolved on its own, that entry's link."""
        if item is not None:
            info = await self.resolve(url)
            if info.is_playlist and 1 <= item <= len(info.entries):
                entry = info.entries[item - 1]
                if entry.info is None:
                    self.forget(entry.url)
        self.forget(url)

    async def close(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        await self._cached.cache_close()
        if self._pool is not None:
            await self._pool.close()

    async def _extract(self, url: str, playlist: bool) -> MediaInfo:
        started, outcome = time.monotonic(), "ok"
        try:
            return await self._extract_here(url, playlist)
        except errors.LinkForbidden as exc:
            outcome = exc.code
            raise said_less(exc, url) from None
        except errors.MediadlError as exc:
            outcome = exc.code
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:
            outcome = "internal"
            raise
        finally:
            if self._metrics is not None:
                self._metrics.extracted(outcome, time.monotonic() - started)

    async def _extract_here(self, url: str, playlist: bool) -> MediaInfo:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        if self._pool is not None:
            info = await self._pool.resolve(url, playlist=playlist)
            log.info("resolved %s in %.2f s", redact_url(url), time.monotonic() - started)
            return info
        context = contextvars.copy_context()  # the request's id, in the thread's log lines
        job = loop.run_in_executor(
            self._executor, lambda: context.run(self.engine.resolve, url, playlist=playlist)
        )
        try:
            info = await asyncio.wait_for(job, self.engine.settings.extract_timeout)
        except TimeoutError:
            raise errors.FetchTimeout(
                "The site took too long to answer. Please try again in a moment.", url=url
            ) from None
        log.info("resolved %s in %.2f s", redact_url(url), time.monotonic() - started)
        return info
