"""Temporary files of streams: where they go and how much of them one stream may write.

A stream (a tunnel) writes to disk only what it can't hold in memory: segments that arrive ahead
of their turn (:mod:`~mediadl.engine.fetch.ordering` spills them to unlinked files) and the whole
copy of a format only yt-dlp's downloaders fetch. Both go under ``data_dir/tmp`` and count against
``stream_disk_max``, so an operator knows where they are and how big they get.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from mediadl import errors
from mediadl.settings import Settings

__all__ = ["DiskBound", "stream_temp_dir"]


def stream_temp_dir(settings: Settings) -> Path:
    """``data_dir/tmp``: where streams keep what they can't hold in memory (owner-only)."""
    folder = settings.data_dir / "tmp"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


class DiskBound:
    """``stream_disk_max`` for a fallback stream's folder: on yt-dlp's progress reports (exact,
    in its thread) and on the folder's size (for downloaders that report nothing until done)."""

    POLL = 0.1
    """Seconds between two looks at the folder's size."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit = folder, limit

    def progress(self, done: int, total: int | None, estimate: bool) -> None:
        if done > self.limit or (total is not None and not estimate and total > self.limit):
            raise self._error()

    def check(self) -> None:
        size = 0
        for path in self.folder.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                size += path.stat().st_size if path.is_file() else 0
        if size > self.limit:
            raise self._error()

    def _error(self) -> errors.ContentTooLarge:
        return errors.ContentTooLarge(
            "This file can only be streamed through a temporary copy larger than this server "
            "allows for one download.",
            limit=self.limit,
        )
