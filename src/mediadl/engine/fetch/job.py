"""One format's download under a given pace: to a file (resumable) or into an in-order stream.

:class:`Job` holds what the requests of one format share (retries, headers, the byte count) and
knows the format's parts: byte ranges of one file (:mod:`.progressive`) or the segments of an
HLS or DASH stream (:mod:`.segments`). Written to a file with a :class:`Journal`, only what the
journal doesn't record as there already is fetched, and what arrives is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Coroutine
from typing import Any
from urllib.parse import urlsplit

from mediadl.engine.bounds import check_media_playlist
from mediadl.engine.fetch import crypto
from mediadl.engine.fetch.adaptive import AdaptiveConcurrency
from mediadl.engine.fetch.base import FetchProgress, Unsupported
from mediadl.engine.fetch.client import HttpClient, host_of
from mediadl.engine.fetch.dash import dash_parts
from mediadl.engine.fetch.growing import Growing
from mediadl.engine.fetch.headers import RequestHeaders
from mediadl.engine.fetch.hls import HlsOptions, parse_media_playlist
from mediadl.engine.fetch.ordering import InOrder
from mediadl.engine.fetch.output import PartFile, Tally
from mediadl.engine.fetch.progressive import FileSpans, Progressive, StreamSpans
from mediadl.engine.fetch.resume import Journal
from mediadl.engine.fetch.retry import Backoff
from mediadl.engine.fetch.segments import Part, Segments
from mediadl.engine.fetch.transfer import Source, fetch_small
from mediadl.models import Format
from mediadl.settings import Settings

__all__ = ["PROGRESSIVE_PROTOCOLS", "SEGMENT_MEMORY", "STREAM_WINDOW", "Job", "consume"]

MiB = 1 << 20
PROGRESSIVE_PROTOCOLS = frozenset({"http", "https"})
STREAM_WINDOW = 16 * MiB
"""Progressive streams: bytes fetched ahead of the consumer (in memory up to the stream's memory
budget, ``native.STREAM_MEMORY``; on disk past it)."""
SEGMENT_MEMORY = 4 * MiB
"""Segmented downloads: memory for parts that wait their turn; beyond it they spill to disk."""
PLAYLIST_LIMIT = 16 * MiB


class Job:
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

    async def to_file(
        self, part: PartFile, journal: Journal | None = None, growing: Growing | None = None
    ) -> None:
        """Fill ``part``; with a ``journal``, only what it doesn't record as there already.
        ``growing`` hears of the bytes written in order (a segmented stream's, as they are)."""
        if self.progressive:
            await self._file_ranges(part, journal)
        else:
            await self._file_segments(part, journal, growing)

    async def _file_ranges(self, part: PartFile, journal: Journal | None) -> None:
        if journal is not None:
            if not journal.ranges:
                part.truncate(0)
            have = journal.ranges.covered()
            if journal.total is not None and have == journal.total:
                self.tally.expect(have)
                self.tally.add(have)
                return
            self.tally.done = have
        output = FileSpans(part, self.tally, journal)
        await self._progressive(output, journal=journal).run()

    async def _file_segments(
        self, part: PartFile, journal: Journal | None, growing: Growing | None
    ) -> None:
        parts = await self._parts()
        done = 0
        if journal is not None:
            journal.check_parts((urlsplit(p.url).path, p.byte_range, p.label) for p in parts)
            done = min(journal.parts, len(parts))
            part.truncate(journal.bytes if done else 0)
            self.tally.done = part.end
        if growing is not None:
            growing.grew(part.path, part.end)
        order = InOrder(first_key=0, budget=SEGMENT_MEMORY, spill_dir=part.path.parent)
        head = 0
        producer = self._segments(order, parts[done:], before=(done, part.end))
        async with contextlib.aclosing(consume(order, producer)) as out:
            async for chunk in out:
                if journal is not None and order.head_key > head:
                    head = order.head_key  # every part before it is in the file
                    journal.part_done(done + head, part.end)
                part.append(chunk)
                if growing is not None:
                    growing.grew(part.path, part.end)

    async def to_order(self, order: InOrder, start: int) -> None:
        if self.progressive:
            spans = StreamSpans(order, start=start, window=STREAM_WINDOW, tally=self.tally)
            await self._progressive(spans, start).run()
            return
        await self._segments(order, await self._parts())

    async def _segments(
        self, order: InOrder, parts: list[Part], before: tuple[int, int] = (0, 0)
    ) -> None:
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
            before=before,
            picture=self.fmt.has_video,
        ).run()

    def _progressive(
        self, output: FileSpans | StreamSpans, start: int = 0, journal: Journal | None = None
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
            max_piece=_chunk_size(self.fmt),
            journal=journal,
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
        # the cryptography package (~7 MB) is loaded only for a stream that is encrypted
        if any(p.key is not None for p in parts) and not crypto.available():
            raise Unsupported("AES-128 without the cryptography package")
        return parts


async def consume(
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
