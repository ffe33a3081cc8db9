"""How long to wait before trying a failed request again: exponential backoff with jitter."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = ["Backoff", "retry_after_seconds"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``retries`` more tries after the first; waits grow from ``base`` to ``cap`` seconds.

    Half of each wait is fixed and half random ("equal jitter"), so parallel requests that failed
    together don't come back together. A server's ``Retry-After`` wins, up to ``max_retry_after``.
    """

    retries: int
    base: float = 0.2
    cap: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 16))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header's wait in seconds: a number of seconds, or an HTTP date less the
    time ``now`` (RFC 9110 allows both; a date in the past is no wait). ``None`` when absent or
    unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": the time is UTC, the zone unsaid
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if not math.isnan(seconds) else None
