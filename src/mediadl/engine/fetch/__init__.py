"""Getting a format's bytes: the one interface every fetcher sits behind.

``fetch_format`` picks the fetcher for a format's protocol (``fetch_formats`` takes all the formats
of one download at once, sharing connections). Callers never name a fetcher, so a
faster one can take over a protocol without touching them. mediadl's own :class:`NativeFetcher`
takes progressive ``http(s)``, ``m3u8_native`` and ``http_dash_segments``; yt-dlp's downloaders
take everything else, and whatever the native fetcher finds it can't do (master or live playlists,
SAMPLE-AES, DRM). ``stream_format`` is the async face the service uses: the bytes of a format in
order, as soon as they arrive.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from pathlib import Path

from mediadl.engine.fetch.base import Fetcher, FetchItem, FetchProgress
from mediadl.engine.fetch.native import NATIVE_PROTOCOLS, NativeFetcher, handles
from mediadl.engine.fetch.pool import SharedPool
from mediadl.engine.fetch.ytdlp import YtdlpFetcher
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings

__all__ = [
    "NATIVE_PROTOCOLS",
    "FetchItem",
    "FetchProgress",
    "Fetcher",
    "NativeFetcher",
    "SharedPool",
    "YtdlpFetcher",
    "fetch_format",
    "fetch_formats",
    "fetcher_for",
    "stream_format",
]


def fetcher_for(fmt: Format, settings: Settings) -> Fetcher:
    """The fetcher that handles ``fmt.protocol`` best."""
    if handles(fmt):
        return NativeFetcher(settings)
    return YtdlpFetcher(settings)


def fetch_format(
    fmt: Format,
    dest: Path,
    *,
    settings: Settings,
    progress: FetchProgress | None = None,
    cancel: CancelToken | None = None,
) -> None:
    """Write ``fmt`` to ``dest`` completely, or raise a ``fetch.*`` error / ``Cancelled``.

    ``dest`` exists only once every byte is there; nothing else is left next to it on failure.
    Blocking: call it from a worker thread, not from a running event loop.
    """
    fetcher_for(fmt, settings).fetch(fmt, dest, progress=progress, cancel=cancel)


def fetch_formats(
    items: Sequence[FetchItem], *, settings: Settings, cancel: CancelToken | None = None
) -> None:
    """``fetch_format`` for every item at once, over one connection pool and concurrency level.

    The first failure stops the others and is raised; no item's file is left unfinished.
    """
    NativeFetcher(settings).fetch_many(items, cancel=cancel)


async def stream_format(
    fmt: Format,
    settings: Settings,
    *,
    start: int = 0,
    cancel: CancelToken | None = None,
    progress: FetchProgress | None = None,
    pool: SharedPool | None = None,
) -> AsyncGenerator[bytes, None]:
    """The bytes of ``fmt`` from offset ``start``, in order, as soon as each piece is there.

    Raises ``fetch.*`` errors or ``Cancelled`` (when ``cancel`` fires) from the iteration.
    ``progress`` counts from ``start`` (its total is what is left from there) and, for the native
    fetcher, is told of a chunk before the chunk is handed out; yt-dlp's fallback reports none.
    With ``pool``, the requests reuse its kept-alive connections (a server's many streams).
    """
    fetcher = NativeFetcher(settings, pool=pool)
    stream = fetcher.stream(fmt, start=start, cancel=cancel, progress=progress)
    async with aclosing(stream):
        async for chunk in stream:
            yield chunk
