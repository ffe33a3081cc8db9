"""Where fetched bytes land: a ``.part`` file renamed into place, and the count of bytes so far.

:class:`PartFile` writes next to the destination and renames onto it only when every byte is
there; on failure it removes itself, so a destination never exists half-written. A resumable
one (``keep=True``) is opened as an earlier run left it, and a journal beside it
(``dest.part.spans``) records each range once it is entirely written, so a process killed
mid-download is followed by one that fetches only what is missing. A segmented stream, written
in order, journals instead how many of its parts are whole in the file and where they end
(``dest.part.segments``): the next run truncates there and fetches the parts after it.
:class:`Tally` counts bytes received, enforces the size limit on them (not on what a header
claimed) and reports progress a few times a second.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from mediadl import errors
from mediadl.engine.fetch.base import FetchProgress

__all__ = [
    "PROGRESS_INTERVAL",
    "PartFile",
    "Tally",
    "journaled_size",
    "part_path",
    "written_segments",
    "written_spans",
]

PROGRESS_INTERVAL = 0.25
"""Seconds between two progress reports."""


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def journal_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part.spans")


def segments_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part.segments")


def written_segments(dest: Path) -> tuple[int, int]:
    """``(parts, offset)``: the first ``parts`` parts of a segmented stream are whole in
    ``dest.part``, which holds them in its first ``offset`` bytes; ``(0, 0)`` when unknown."""
    try:
        lines = segments_path(dest).read_text().splitlines()
        size = part_path(dest).stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return 0, 0
    for line in reversed(lines):
        count, _, offset = line.partition(" ")
        if count.isdigit() and offset.isdigit() and int(offset) <= size:
            return int(count), int(offset)
    return 0, 0


def journaled_size(dest: Path) -> int | None:
    """The file's whole size, as an earlier run learned it (``None``: not known)."""
    try:
        lines = journal_path(dest).read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    sizes = [int(n) for line in lines if (n := line.removeprefix("= ")) != line and n.isdigit()]
    return sizes[-1] if sizes else None


def written_spans(dest: Path) -> list[tuple[int, int]]:
    """The ranges of ``dest.part`` an earlier run is known to have written, merged and sorted.

    A range is journaled only after its last byte was written, so none of them is half there.
    """
    try:
        lines = journal_path(dest).read_text().splitlines()
        size = part_path(dest).stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return []
    spans = sorted(
        (int(a), min(int(b), size))
        for a, _, b in (line.partition(" ") for line in lines)
        if a.isdigit() and b.isdigit()
    )
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        if stop <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


class PartFile:
    """``dest.part``: positional and appending writes, then an atomic rename onto ``dest``.

    ``keep``: open what an earlier run left (see :func:`written_spans`) instead of starting
    empty, and journal finished ranges (:meth:`written`) for the next one.
    """

    def __init__(self, dest: Path, *, keep: bool = False) -> None:
        self.dest = dest
        self.path = part_path(dest)
        self.keep = keep
        flags = os.O_WRONLY | os.O_CREAT | (0 if keep else os.O_TRUNC)
        self._fd: int | None = os.open(self.path, flags, 0o644)
        self._end = 0

    def restart(self, offset: int = 0) -> None:
        """Keep only the first ``offset`` bytes an earlier run left; appends go on from there."""
        assert self._fd is not None
        os.ftruncate(self._fd, offset)
        self._end = offset
        journals = [journal_path(self.dest)] + ([segments_path(self.dest)] if not offset else [])
        for path in journals:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def segments_done(self, parts: int) -> None:
        """Record that the first ``parts`` parts of a segmented stream are whole (resumable
        files only): they end where the file ends now."""
        if self.keep and parts:
            with segments_path(self.dest).open("a") as journal:
                journal.write(f"{parts} {self._end}\n")

    def sized(self, total: int) -> None:
        """Record the whole file's size (resumable files only)."""
        if self.keep:
            with journal_path(self.dest).open("a") as journal:
                journal.write(f"= {total}\n")

    def written(self, start: int, end: int) -> None:
        """Record that ``[start, end)`` is entirely written (resumable files only)."""
        if self.keep and end > start:
            with journal_path(self.dest).open("a") as journal:
                journal.write(f"{start} {end}\n")

    def write_at(self, offset: int, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, offset)
            view, offset = view[written:], offset + written

    def append(self, data: bytes) -> None:
        self.write_at(self._end, data)
        self._end += len(data)

    def commit(self) -> None:
        """Close and rename onto ``dest``: from here on the file is complete."""
        self._close()
        self.path.replace(self.dest)
        for path in (journal_path(self.dest), segments_path(self.dest)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def close(self) -> None:
        """Close, keeping what was written (a resumable file whose run was interrupted)."""
        self._close()

    def discard(self) -> None:
        self._close()
        for path in (self.path, journal_path(self.dest), segments_path(self.dest)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Tally:
    """Bytes received so far: the size limit and throttled progress reports."""

    def __init__(
        self,
        progress: FetchProgress | None,
        *,
        max_bytes: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.done = 0
        self.total: int | None = None
        self.estimate = False
        self._progress = progress
        self._max = max_bytes
        self._clock = clock
        self._next = 0.0

    def expect(self, total: int | None, *, estimate: bool = False) -> None:
        """What the whole will be, exactly or as an estimate; refuses what is over the limit."""
        if total is not None and not estimate and self._max is not None and total > self._max:
            raise errors.ContentTooLarge(size=total, limit=self._max)
        self.total, self.estimate = total, estimate

    def add(self, nbytes: int) -> None:
        self.done += nbytes
        if self._max is not None and self.done > self._max:
            raise errors.ContentTooLarge(size=self.done, limit=self._max)
        if self._progress is not None and self._clock() >= self._next:
            self.report()

    def report(self) -> None:
        """Report now (also the final report), whatever the interval."""
        if self._progress is None:
            return
        self._next = self._clock() + PROGRESS_INTERVAL
        total = self.total
        if total is not None and self.estimate:
            total = max(total, self.done)
        self._progress(self.done, total, self.estimate)
