"""Token buckets for bandwidth caps (asyncio, single event loop)."""

from __future__ import annotations

import asyncio
import time

MIN_CHUNK = 4 * 1024
MAX_CHUNK = 64 * 1024


def chunk_size(rate: int | None) -> int:
    """Write size for a cap: ~1/20 s of data, within [4 KiB, 64 KiB]; 64 KiB if uncapped."""
    if rate is None:
        return MAX_CHUNK
    return max(MIN_CHUNK, min(MAX_CHUNK, rate // 20))


class TokenBucket:
    """``rate`` bytes/s with a burst of ``burst`` bytes.

    Takers go into debt and sleep until it is paid back, so concurrent takers sharing a
    bucket are served in turn and their total stays at ``rate``.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else chunk_size(int(rate)))
        self._tokens = self.burst
        self._stamp = time.monotonic()

    async def take(self, n: int) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= n
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self.rate)
