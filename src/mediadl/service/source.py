"""The service's one door to upstream bytes: a format's bytes, in order, from a byte offset.

Every byte a tunnel sends, and every byte ffmpeg reads, comes through :func:`open_format`, which
sits on the engine's fetcher (``engine.fetch.stream_format``: parallel ranges, fragment pools,
retries), so one egress path carries all traffic. The rest of the service sees only
:class:`Upstream`.

A passthrough answer needs the file's size before its first byte (``Content-Length``,
``Content-Range``). For progressive files the stream's own first answer tells it (the fetcher's
progress hears of it before the first chunk is handed out), so no request is spent on the size
alone; only a start past the end (``416``) asks with one ``Range: bytes=0-0`` request, so that the
refusal can say the size. For HLS the media playlist's durations times the bitrate give an
estimate.

With ``tunnel_pool`` on (the default), a server opens its formats with :func:`pooled_opener`:
every stream's requests then reuse the connections of one
:class:`~mediadl.engine.fetch.pool.SharedPool` (a reverse proxy's keep-alive upstream pool),
instead of each stream opening its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from mediadl.engine.fetch import SharedPool, stream_format
from mediadl.engine.fetch.client import HttpClient
from mediadl.engine.fetch.headers import RequestHeaders
from mediadl.engine.fetch.retry import Backoff
from mediadl.engine.fetch.transfer import Cursor, Resource, Source, Transfer, fetch_small
from mediadl.errors import FetchError
from mediadl.models import Format
from mediadl.settings import Settings

__all__ = ["Opener", "Upstream", "open_format", "pooled_opener"]

PLAYLIST_LIMIT = 4 << 20
TYPICAL_AUDIO_KBPS = 128.0
_EXTINF = re.compile(r"^#EXTINF:\s*([0-9.]+)", re.M)


@dataclass(eq=False)
class Upstream:
    """An open stream of one format's bytes, starting at ``start``."""

    start: int
    total: int | None
    """Exact size of the whole format, when known."""
    estimate: int | None
    """Approximate size when ``total`` is unknown (bitrate × duration)."""
    chunks: AsyncIterator[bytes]

    async def aclose(self) -> None:
        close = getattr(self.chunks, "aclose", None)
        if close is not None:
            await close()


Opener = Callable[[Format, Settings, int], Awaitable[Upstream]]
"""``(format, settings, start) -> Upstream``; what tests replace to play a misbehaving site."""


async def open_format(
    fmt: Format, settings: Settings, start: int = 0, *, pool: SharedPool | None = None
) -> Upstream:
    """Open ``fmt`` at byte ``start``; ``fetch.*`` errors (``fetch.forbidden``: 403/410).
    With ``pool``, over its kept-alive connections."""
    if fmt.protocol in ("http", "https") and not fmt.filesize:
        opened = await _open_sized(fmt, settings, start, pool)
        if opened is not None:
            return opened
    total, estimate = await _size(fmt, settings, pool)
    return Upstream(start, total, estimate, stream_format(fmt, settings, start=start, pool=pool))


def pooled_opener(pool: SharedPool) -> Opener:
    """:func:`open_format` over ``pool``'s connections."""
    return functools.partial(open_format, pool=pool)


async def _open_sized(
    fmt: Format, settings: Settings, start: int, pool: SharedPool | None
) -> Upstream | None:
    """The stream, its first chunk already read and its size learnt on the way; None when the
    site refused the start (``416``), for :func:`_size` to ask the size on its own."""
    told: list[int | None] = []

    def progress(_done: int, left: int | None, estimate: bool) -> None:
        if not told:
            told.append(None if left is None or estimate else start + left)

    chunks = stream_format(fmt, settings, start=start, progress=progress, pool=pool)
    try:
        first = await anext(chunks, b"")
    except FetchError as exc:
        await chunks.aclose()
        if exc.context.get("status") == 416:
            return None
        raise
    except BaseException:
        await chunks.aclose()
        raise
    total = told[0] if told else (start if not first else None)
    return Upstream(start, total, None, _Resumed(first, chunks))


class _Resumed:
    """``first``, then the rest of ``rest``; closing it closes ``rest`` (started already)."""

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None]) -> None:
        self._first: bytes | None = first or None
        self._rest = rest

    def __aiter__(self) -> _Resumed:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await anext(self._rest)

    async def aclose(self) -> None:
        await self._rest.aclose()


async def _size(
    fmt: Format, settings: Settings, pool: SharedPool | None
) -> tuple[int | None, int | None]:
    if fmt.protocol in ("http", "https"):
        if fmt.filesize:
            return fmt.filesize, None
        return await _probe_size(fmt, settings, pool), None
    if fmt.protocol == "http_dash_segments":
        fragments = fmt.raw.get("fragments") or ()
        return None, _estimate(fmt, sum(float(f.get("duration") or 0) for f in fragments))
    if fmt.protocol.startswith("m3u8") and _kbps(fmt):
        return None, _estimate(fmt, await _playlist_seconds(fmt, settings, pool))
    return None, fmt.size


def _client(settings: Settings, pool: SharedPool | None) -> HttpClient:
    if pool is None:
        return HttpClient(settings)
    return HttpClient(settings, shared_host_cap=False, pool=pool)


async def _probe_size(fmt: Format, settings: Settings, pool: SharedPool | None) -> int | None:
    """The size a server gives for the first byte (``Content-Range``), or for all of it; a
    failed try is tried again as the fetcher tries its own requests."""
    resource = Resource()

    async def sink(_offset: int, _data: bytes) -> None:
        return None

    source = Source(fmt.url, RequestHeaders.of(fmt), {"format_id": fmt.id})
    async with _client(settings, pool) as client:
        backoff = Backoff(settings.fetch_retries)
        await Transfer(client, source, Cursor(0, 1), sink, backoff=backoff, resource=resource).run()
    return resource.total


async def _playlist_seconds(fmt: Format, settings: Settings, pool: SharedPool | None) -> float:
    """The media playlist's length in seconds (its ``#EXTINF`` durations), read with retries."""
    source = Source(fmt.url, RequestHeaders.of(fmt), {"format_id": fmt.id})
    async with _client(settings, pool) as client:
        backoff = Backoff(settings.fetch_retries)
        text, _ = await fetch_small(client, source, backoff=backoff, limit=PLAYLIST_LIMIT)
    return sum(float(m) for m in _EXTINF.findall(text.decode("utf-8", "replace")))


def _kbps(fmt: Format) -> float | None:
    """The format's bitrate; for sound alone, a typical one when the site doesn't say."""
    return fmt.tbr or (None if fmt.has_video else TYPICAL_AUDIO_KBPS)


def _estimate(fmt: Format, seconds: float) -> int | None:
    kbps = _kbps(fmt)
    if kbps and seconds:
        return int(kbps * 125 * seconds)
    return fmt.size
