"""A part's in-order bytes as they land on disk, for a reader in another thread.

A segmented stream is written to its ``.part`` file in order (the segments that arrive early
wait in :class:`~mediadl.engine.fetch.ordering.InOrder`, in memory or spilled), so the file's
first bytes are final as soon as they are written. :class:`Growing` tells a reader how many
there are, and when the part is complete (its ``dest`` in place) or has stopped (failed,
cancelled). The fetch never waits for the reader: a reader that is slow, or stuck, holds up
nothing but itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = ["Growing", "GrowthState", "Watermark"]


class GrowthState(Enum):
    GROWING = "growing"
    DONE = "done"
    """Every byte is in ``dest``."""
    STOPPED = "stopped"
    """The part failed, was cancelled, or started over: what was read may be wrong."""


@dataclass(frozen=True, slots=True)
class Watermark:
    state: GrowthState
    size: int
    """Bytes at the start of ``path`` that are final (while growing)."""
    path: Path | None
    """Where they are: the ``.part`` file while growing, ``dest`` once done."""


class Growing:
    """Thread-safe: the fetch reports (:meth:`grew`, :meth:`done`, :meth:`stop`); a reader
    :meth:`wait`\\ s for more."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self._changed = threading.Condition()
        self._size = 0
        self._path: Path | None = None
        self._state = GrowthState.GROWING

    def grew(self, path: Path, size: int) -> None:
        """The first ``size`` bytes of ``path`` are written and final."""
        with self._changed:
            if self._state is not GrowthState.GROWING:
                return
            if size < self._size or (self._path is not None and path != self._path):
                self._state = GrowthState.STOPPED  # started over: bytes read are no longer so
            else:
                self._path, self._size = path, size
            self._changed.notify_all()

    def done(self) -> None:
        """``dest`` holds every byte."""
        with self._changed:
            if self._state is GrowthState.GROWING:
                self._state, self._path = GrowthState.DONE, self.dest
            self._changed.notify_all()

    def stop(self) -> None:
        with self._changed:
            if self._state is GrowthState.GROWING:
                self._state = GrowthState.STOPPED
            self._changed.notify_all()

    def wait(self, have: int) -> Watermark:
        """Once more than ``have`` bytes are final, or the part is done or stopped."""
        with self._changed:
            while self._state is GrowthState.GROWING and self._size <= have:
                self._changed.wait()
            return Watermark(self._state, self._size, self._path)
