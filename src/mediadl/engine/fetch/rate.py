"""A download's speed cap (``fetch_rate_limit``): every byte of it, on all its connections.

Each chunk books the next slot of time its size takes at the cap; the transfer that read it waits
until that slot is near. Not reading makes TCP slow the sender down, so the cap holds on the
wire too, not only on disk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["BURST_SECONDS", "ByteRate"]

BURST_SECONDS = 0.25
"""How far ahead of the cap a download may run (it smooths the waits)."""


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
