"""Temporary files of streams: where they go and how much of them one stream may write.

A stream (a tunnel) writes to disk only what it can't hold in memory: segments that arrive ahead
of their turn (:mod:`~mediadl.engine.fetch.ordering` spills them to unlinked files) and the whole
copy of a format only yt-dlp's downloaders fetch. Both go under ``data_dir/tmp`` and count against
``stream_disk_max``, so an operator knows where they are and how big they get.

A process that dies (SIGKILL, a power cut) can't remove its folders. Their names carry the host
and the process id (:func:`temp_prefix`), so the first stream of a later process on the same host
removes those whose process is gone; a folder of a live process, or of another host sharing the
data directory, is left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
from pathlib import Path

from mediadl import errors
from mediadl.settings import Settings

__all__ = ["DiskBound", "stream_temp_dir", "sweep_leftovers", "temp_prefix"]

_OWNED = re.compile(r"stream-(?P<host>.+)-(?P<pid>\d+)-[^-]+")
_swept: set[Path] = set()
_folders: dict[Path, Path] = {}


def stream_temp_dir(settings: Settings) -> Path:
    """``data_dir/tmp``: where streams keep what they can't hold in memory (owner-only).

    Made when missing (one ``stat`` per stream otherwise: a server opens one per tunnel). The
    first call of a process for a folder clears what dead processes left in it."""
    folder = _folders.get(settings.data_dir)
    if folder is None:
        folder = _folders.setdefault(settings.data_dir, settings.data_dir / "tmp")
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder not in _swept:
        _swept.add(folder)
        sweep_leftovers(folder)
    return folder


def temp_prefix() -> str:
    """The start of a stream folder's name: whose it is, so a later process can tell."""
    return f"stream-{socket.gethostname()}-{os.getpid()}-"


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove the stream folders of processes of this host that no longer run."""
    host, removed = socket.gethostname(), []
    for path in folder.glob("stream-*"):
        owner = _OWNED.fullmatch(path.name)
        if owner is None or owner["host"] != host or _alive(int(owner["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


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
