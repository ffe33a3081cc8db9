"""How long to wait before trying a failed request again: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


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
