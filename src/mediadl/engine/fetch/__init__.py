"""Getting a format's bytes onto disk: the one interface every fetcher sits behind.

``fetch_format`` picks the fetcher for a format's protocol. Callers never name a fetcher, so a
faster one can take over a protocol without touching them.
"""

from __future__ import annotations

from pathlib import Path

from mediadl.engine.fetch.base import Fetcher, FetchProgress
from mediadl.engine.fetch.ytdlp import YtdlpFetcher
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings

__all__ = ["FetchProgress", "Fetcher", "fetch_format", "fetcher_for"]


def fetcher_for(fmt: Format, settings: Settings) -> Fetcher:
    """The fetcher that handles ``fmt.protocol`` best."""
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
    """
    fetcher_for(fmt, settings).fetch(fmt, dest, progress=progress, cancel=cancel)
