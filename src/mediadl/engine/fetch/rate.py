"""Rates: a download's speed cap, and what a site gives one connection.

:class:`ByteRate` is the cap (``fetch_rate_limit``): every byte of a download, on all its
connections. Each chunk books the next slot of time its size takes at the cap; the transfer that
read it waits until that slot is near. Not reading makes TCP slow the sender down, so the cap
holds on the wire too, not only on disk. :class:`SiteRate` measures, for deciding whether another
connection would pay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["BURST_SECONDS", "MEASURE_SECONDS", "ByteRate", "Sink", "SiteRate"]

BURST_SECONDS = 0.25
"""How far ahead of the cap a download may run (it smooths the waits)."""
MEASURE_SECONDS = 0.1
"""Time spent waiting for the site before its rate is believed."""

Sink = Callable[[int, bytes], Awaitable[None]]
"""``(offset_in_resource, data)``: where a transfer puts what it reads; may wait (backpressure)
or raise (too large, cancelled)."""


class ByteRate:
    """At most ``rate`` bytes a second, shared by every transfer of one download."""

    def __init__(self, rate: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._free_at = clock()

    async def take(self, nbytes: int) -> None:
        now = self._clock()
        self._free_at = max(self._free_at, now) + nbytes / self.rate
        wait = self._free_at - now - BURST_SECONDS
        if wait > 0:
            await asyncio.sleep(wait)


class SiteRate:
    """Bytes a second the site gives one connection: bytes over the time the requests spent
    waiting for them, not the time their output held them back (a stream's slow reader), so a
    slow consumer doesn't pass for a slow site (more connections would only pile bytes up ahead
    of it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.bytes = 0
        self.seconds = 0.0

    def measure(self, sink: Sink) -> Sink:
        """``sink`` (one piece's), timing what comes through it from the piece's first chunk on."""
        clock, last = self._clock, None

        async def measured(offset: int, data: bytes) -> None:
            nonlocal last
            if last is not None:
                self.bytes += len(data)
                self.seconds += clock() - last
            await sink(offset, data)
            last = clock()

        return measured

    @property
    def rate(self) -> float | None:
        """The rate, once ``MEASURE_SECONDS`` of waiting stand behind it."""
        return self.bytes / self.seconds if self.seconds >= MEASURE_SECONDS else None
