"""How many requests run at once: grow while the aggregate rate grows, shrink when told to.

Sites throttle each connection, or the whole server, or both. A per-connection cap shows as an
aggregate rate that grows in step with the number of connections; a server-wide cap as a rate that
stays put. So :class:`AdaptiveConcurrency` starts at two requests, waits until the requests of a
new level have their answers, measures the aggregate rate over a short window and grows while the
rate keeps up with the number of requests: one more request first (under a server-wide cap that
costs a single connection), then doubling, or quadrupling once a step paid off in full. A level
that doesn't pay is looked at twice (one short window is often noisy), then the controller goes
back to where the rate says the cap begins (never below the last level that paid off) and holds,
probing a small step up now and then. A
``429``/``503`` halves the level and holds it longer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["AdaptiveConcurrency", "Pace"]

log = logging.getLogger("mediadl.fetch")

MAX_SETTLE = 1.0
"""Longest wait, in seconds, for the requests of a new level to be answered."""
MIN_WINDOW = 0.1
"""Shortest measuring window, in seconds."""
WINDOW_LATENCIES = 2.0
EARLY_WINDOW = 0.04
"""A level whose rate already shows nearly full proportional gain is judged after this long."""
EARLY_SCORE = 0.95
LINEAR = 0.85
"""A step whose gain is this close to proportional is followed by a bigger one."""
HOLD_SECONDS = 4.0
THROTTLE_HOLD_SECONDS = 8.0


class Pace(Protocol):
    """What a transfer tells the concurrency controller."""

    def add(self, nbytes: int) -> None: ...

    def sent(self) -> None: ...

    def answered(self, latency: float | None) -> None: ...

    def throttled(self) -> None: ...


class AdaptiveConcurrency:
    """An async slot pool whose size follows the measured aggregate throughput."""

    def __init__(
        self,
        maximum: int,
        *,
        initial: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = max(1, min(initial, self.maximum))
        self.active = 0
        self.peak = self.limit
        self._clock = clock
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._latency = 0.05
        self._base_limit = 0
        self._base_rate = 0.0
        self._hold_until = 0.0
        self._doubling = True
        self._factor = 2
        self._first_step = True
        self._first_look: tuple[int, float] | None = None
        self._changed_at = 0.0
        self._count_from: float | None = None
        self._started = self._answered = 0
        self._window = MIN_WINDOW
        self._bytes = 0
        self._saturated = True
        self._restart_window(clock())

    # --- slots --------------------------------------------------------------------------------

    async def acquire(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was ours already: hand it on
            raise

    def release(self) -> None:
        self.active -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        while self._waiters and self.active < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)

    # --- what transfers report ------------------------------------------------------------------

    def sent(self) -> None:
        """A request went out."""
        self._started += 1

    def answered(self, latency: float | None) -> None:
        """A request got its response headers after ``latency`` seconds (``None``: it failed)."""
        if latency is not None:
            self._latency = 0.7 * self._latency + 0.3 * max(0.0, latency)
        self._answered += 1

    def throttled(self) -> None:
        """The server said 429/503: halve the level and hold it a while."""
        now = self._clock()
        self._base_limit, self._doubling = 0, False
        self._hold_until = now + THROTTLE_HOLD_SECONDS
        self._set_limit(max(1, self.limit // 2), now)

    def add(self, nbytes: int) -> None:
        """Bytes arrived on one of the requests."""
        now = self._clock()
        if self._count_from is None:
            if self._answered < self._started and now < self._changed_at + MAX_SETTLE:
                return
            self._count_from = now
            return
        self._bytes += nbytes
        if self.active < self.limit:
            self._saturated = False
        elapsed = now - self._count_from
        if elapsed >= self._window or (elapsed >= EARLY_WINDOW and self._clearly_pays(elapsed)):
            self._evaluate(self._bytes, elapsed, now)

    def _clearly_pays(self, elapsed: float) -> bool:
        """Growth that is plain before the window ends needn't wait for it."""
        if not self._saturated or self._base_limit == 0 or self._first_look is not None:
            return False
        expected = self.limit / self._base_limit
        return expected > 1 and self._bytes / elapsed >= self._base_rate * expected * EARLY_SCORE

    @property
    def per_request_rate(self) -> float:
        """Bytes per second one request got at the last level that paid off (0: unknown yet)."""
        return self._base_rate / self._base_limit if self._base_limit else 0.0

    # --- the decision ---------------------------------------------------------------------------

    def _evaluate(self, bytes_: int, seconds: float, now: float) -> None:
        log.debug(
            "concurrency %d (base %d): %.0f B/s%s",
            self.limit,
            self._base_limit,
            bytes_ / seconds,
            "" if self._saturated else " (not saturated)",
        )
        if not self._saturated:
            self._restart_window(now)  # too little work to judge this level
            return
        if self._first_look is not None:  # judge both windows together
            bytes_, seconds = bytes_ + self._first_look[0], seconds + self._first_look[1]
        rate = bytes_ / seconds
        if self._base_limit == 0 or self._base_rate <= 0:
            self._accept(rate, now, grow=True)
            return
        expected = self.limit / self._base_limit
        score = (rate / self._base_rate - 1) / (expected - 1) if expected > 1 else 1.0
        if score >= 0.5:
            self._factor = 4 if score >= LINEAR and expected > 1 else 2
            self._accept(rate, now, grow=True)
        elif self._first_look is None:
            self._restart_window(now)  # one window is often noisy: look once more first
            self._first_look = (bytes_, seconds)
        elif score >= 0.2:
            self._accept(rate, now, grow=False)
        else:  # back to where the measured rate says the cap begins, at least the last good level
            fit = round(rate * self._base_limit / self._base_rate)
            self._doubling = False
            self._hold_until = now + HOLD_SECONDS
            self._set_limit(max(self._base_limit, min(self.limit - 1, fit)), now)

    def _accept(self, rate: float, now: float, *, grow: bool) -> None:
        self._base_limit, self._base_rate = self.limit, rate
        if not grow:
            self._doubling = False
            self._hold_until = now + HOLD_SECONDS
        if now < self._hold_until or self.limit >= self.maximum:
            self._restart_window(now)
            return
        if self._first_step:  # a small first probe: under a server-wide cap it costs one request
            self._first_step, step = False, max(1, self.limit // 2)
        elif self._doubling:
            step = self.limit * (self._factor - 1)
        else:
            step = max(1, self.limit // 4)
        self._set_limit(min(self.maximum, self.limit + step), now)

    def _set_limit(self, limit: int, now: float) -> None:
        self.limit = limit
        self.peak = max(self.peak, limit)
        self._restart_window(now)
        self._dispatch()

    def _restart_window(self, now: float) -> None:
        self._first_look = None
        self._changed_at = now
        self._count_from = None
        self._started = self._answered = 0
        self._window = max(MIN_WINDOW, WINDOW_LATENCIES * self._latency)
        self._bytes = 0
        self._saturated = True
