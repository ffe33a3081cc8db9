"""Places for tunnels that run ffmpeg (remux, transcode): a few at once, the others wait in line.

Each such tunnel is an ffmpeg process of ~55 MB and most of a core while its client reads fast:
64 at once took 3.3 GB on two cores and moved no more bytes per second than 4 (bench/results.md,
"A budget for remux tunnels"). So at most ``max_ffmpeg_tunnels`` run at once in this process;
the next ones wait for a place, first come first served, for up to ``ffmpeg_queue_wait``
seconds, then get ``503 server.busy`` with ``Retry-After``. A client that leaves while waiting
(its request is cancelled, :mod:`mediadl.service.leaving`) leaves the line at once. Passthrough
tunnels never wait here: they cost a socket's buffers, not a process.

The places are counted per process, also when download slots are counted in Redis: ffmpeg's
memory and CPU are the machine's, and each replica knows only its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mediadl import errors
from mediadl.settings import Settings

__all__ = ["RETRY_AFTER", "FFmpegQueue", "Place"]

RETRY_AFTER = 10
"""Seconds a tunnel refused after waiting is told to wait before asking again."""

Moved = Callable[[int], None]
"""Told a waiting tunnel's place in line (1: next) each time it changes."""


@dataclass(eq=False)
class _Waiter:
    moved: Moved | None
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class FFmpegQueue:
    """``places`` at once; a tunnel past them waits in line up to ``wait`` seconds."""

    def __init__(self, places: int, wait: float) -> None:
        self.places = places
        self.wait = wait
        self.running = 0
        """Places taken (their ffmpeg runs, or is about to)."""
        self._line: deque[_Waiter] = deque()

    @classmethod
    def from_settings(cls, settings: Settings) -> FFmpegQueue:
        return cls(settings.max_ffmpeg_tunnels, settings.ffmpeg_queue_wait)

    @property
    def waiting(self) -> int:
        """Tunnels in line now."""
        return len(self._line)

    async def take(self, moved: Moved | None = None) -> Place:
        """A place, at once when one is free and nobody waits, else in turn; ``ServerBusy``
        (with ``retry_after``) when none came within ``wait`` seconds."""
        if self.running < self.places and not self._line:
            self.running += 1
            return Place(self)
        waiter = _Waiter(moved)
        self._line.append(waiter)
        if moved is not None:
            moved(len(self._line))
        try:
            async with asyncio.timeout(self.wait):
                await waiter.granted
        except TimeoutError:
            self._leave(waiter)
            raise errors.ServerBusy(retry_after=RETRY_AFTER) from None
        except BaseException:  # the client left (cancelled)
            self._leave(waiter)
            raise
        return Place(self)

    def _leave(self, waiter: _Waiter) -> None:
        """A waiter gives up; a place handed to it just as it did goes to the next in line."""
        if waiter.granted.done() and not waiter.granted.cancelled():
            self._give_back()
            return
        waiter.granted.cancel()
        with contextlib.suppress(ValueError):
            self._line.remove(waiter)
        self._tell_places()

    def _give_back(self) -> None:
        """A place is free: the first in line takes it over, else it is free for anyone."""
        while self._line:
            waiter = self._line.popleft()
            if not waiter.granted.done():
                waiter.granted.set_result(None)
                self._tell_places()
                return
        self.running -= 1

    def _tell_places(self) -> None:
        for n, waiter in enumerate(self._line, start=1):
            if waiter.moved is not None:
                waiter.moved(n)


class Place:
    """One ffmpeg's place; ``release`` gives it back (once, whatever happens meanwhile)."""

    def __init__(self, queue: FFmpegQueue) -> None:
        self._queue: FFmpegQueue | None = queue

    def release(self) -> None:
        queue, self._queue = self._queue, None
        if queue is not None:
            queue._give_back()
