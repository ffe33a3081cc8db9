"""Folding the byte counts of several parts into one throttled stream of ``Progress`` events."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from mediadl.models import Progress, ProgressHook, Stage

__all__ = ["ProgressTracker"]

_SPEED_WINDOW = 3.0
"""Seconds of history behind the speed figure."""


class ProgressTracker:
    """Thread-safe: each part reports ``(done, total, estimate)``; one hook hears the sum.

    ``limit`` (bytes) trips ``exceeded`` as soon as the parts together pass it.
    """

    def __init__(
        self,
        hook: ProgressHook | None,
        parts: int,
        *,
        interval: float = 0.2,
        limit: int | None = None,
        on_exceed: Callable[[], None] | None = None,
    ) -> None:
        self._hook = hook
        self._done = [0] * parts
        self._totals: list[int | None] = [None] * parts
        self._estimates = [False] * parts
        self._interval = interval
        self._limit = limit
        self._on_exceed = on_exceed
        self._last_emit = 0.0
        self._history: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()
        self.exceeded = threading.Event()

    def part(self, index: int) -> _PartReporter:
        return _PartReporter(self, index)

    def update(self, index: int, done: int, total: int | None, estimate: bool) -> None:
        now = time.monotonic()
        with self._lock:
            self._done[index] = done
            self._totals[index] = total
            self._estimates[index] = estimate
            downloaded = sum(self._done)
            self._history.append((now, downloaded))
            while self._history and now - self._history[0][0] > _SPEED_WINDOW:
                self._history.popleft()
            newly_exceeded = (
                self._limit is not None and downloaded > self._limit and not self.exceeded.is_set()
            )
            if newly_exceeded:
                self.exceeded.set()
            emit = now - self._last_emit >= self._interval
            if emit:
                self._last_emit = now
                event = self._event(downloaded, now)
        if newly_exceeded and self._on_exceed:
            self._on_exceed()
        if emit and self._hook:
            self._hook(event)

    def stage(self, stage: Stage, fraction: float | None = None) -> None:
        """Announce a stage after fetching; ``fraction`` of it done, when known."""
        if not self._hook:
            return
        total = sum(t or 0 for t in self._totals) or None
        done = sum(self._done)
        if fraction is not None and total:
            done = int(total * fraction)
        self._hook(Progress(stage=stage, downloaded=done, total=total))

    def _event(self, downloaded: int, now: float) -> Progress:
        known = [t for t in self._totals if t is not None]
        total = sum(known) if len(known) == len(self._totals) else None
        speed = None
        if len(self._history) > 1:
            (t0, b0), (t1, b1) = self._history[0], self._history[-1]
            if t1 > t0:
                speed = (b1 - b0) / (t1 - t0)
        eta = (total - downloaded) / speed if total and speed else None
        return Progress(
            stage=Stage.FETCH,
            downloaded=downloaded,
            total=total,
            total_is_estimate=any(self._estimates),
            speed=speed,
            eta=max(eta, 0.0) if eta is not None else None,
        )


class _PartReporter:
    def __init__(self, tracker: ProgressTracker, index: int) -> None:
        self._tracker = tracker
        self._index = index

    def __call__(self, done: int, total: int | None, estimate: bool) -> None:
        self._tracker.update(self._index, done, total, estimate)
