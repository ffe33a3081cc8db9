"""Moving-window rate limits counted in this process, on the event loop, in constant time.

The ``limits`` library's in-memory storage counts a moving window in a list per client that each
hit grows at its front (a copy of the whole list: thousands of entries under a generous limit),
and expires entries on a timer thread that lives 10 ms: under steady traffic a new thread for
nearly every request, started from the event loop, which waits for it to run. Measured through
one server at 64 clients (3 MB tunnels, the bench's 100000/minute): 9–19 % of its CPU per GB.

:class:`InProcessWindow` keeps the library's moving window and its answers (``limits``'
``WindowStats``) with a deque of hit times per counter: a hit is refused when ``amount`` hits
fall within the last ``expiry`` seconds, and a refused hit isn't counted. Times that left the
window are dropped as a counter is read; counters nobody read for their whole window are
dropped every ``SWEEP`` seconds, on the loop. A shared store (Redis…) keeps the library.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, WindowStats

__all__ = ["SWEEP", "InProcessWindow"]

SWEEP = 60.0
"""Seconds between passes that drop counters whose window is empty."""


class InProcessWindow:
    """``await hit(item, *identifiers)`` and ``await get_window_stats(...)``, as the library's
    moving-window limiter answers them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._hits: dict[str, tuple[deque[float], int]] = {}
        """Per counter: its hit times, oldest first, and its window in seconds."""
        self._swept = clock()

    def __len__(self) -> int:
        """Counters held now (one per client and limit that was hit within its window)."""
        return len(self._hits)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = self._clock()
        hits = self._window(item, identifiers, now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        return True

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = self._clock()
        hits = self._window(item, identifiers, now)
        oldest = hits[0] if hits else now
        return WindowStats(oldest + item.get_expiry(), item.amount - len(hits))

    def _window(
        self, item: RateLimitItem, identifiers: tuple[str, ...], now: float
    ) -> deque[float]:
        """The counter's hits still within its window (older ones dropped)."""
        if now - self._swept >= SWEEP:
            self._sweep(now)
        key, expiry = item.key_for(*identifiers), item.get_expiry()
        entry = self._hits.get(key)
        if entry is None:
            entry = self._hits[key] = (deque(), expiry)
        hits, since = entry[0], now - expiry
        while hits and hits[0] < since:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        self._swept = now
        gone = [k for k, (hits, span) in self._hits.items() if not hits or hits[-1] < now - span]
        for key in gone:
            del self._hits[key]
