"""Progress of work the server does for a link, for pages that subscribe (Server-Sent Events).

A tunnel publishes its state (``waiting`` → ``resolve`` → [``queued``…] → [``mux``] → ``start``
→ ``progress``… → ``done``/``error``) under its random id; subscribers get the latest state at
once and then every change, coalesced: a slow subscriber skips states, it never makes the
download wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from mediadl import errors

__all__ = ["TERMINAL", "ProgressHub", "Reporter"]

TERMINAL = frozenset({"done", "error"})
KEEP_SECONDS = 600.0
"""How long a finished or idle channel is remembered."""


@dataclass(eq=False)
class _Channel:
    state: dict[str, Any]
    touched: float = field(default_factory=time.monotonic)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    subscribers: int = 0


class ProgressHub:
    """In-process channels keyed by tunnel id (a replica reports what it serves)."""

    def __init__(self, keep: float = KEEP_SECONDS) -> None:
        self._channels: dict[str, _Channel] = {}
        self._keep = keep

    def publish(self, key: str, stage: str, **fields: Any) -> None:
        if not key:
            return
        self._purge()
        state = {"stage": stage, **fields}
        channel = self._channels.get(key)
        if channel is None:
            self._channels[key] = _Channel(state)
            return
        channel.state, channel.touched = state, time.monotonic()
        channel.changed.set()
        channel.changed = asyncio.Event()

    def state(self, key: str) -> dict[str, Any] | None:
        channel = self._channels.get(key)
        return dict(channel.state) if channel else None

    async def subscribe(
        self, key: str, *, timeout: float, idle: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The current state, then each change, until a terminal one, ``timeout`` seconds, or
        ``idle`` seconds without a change (a subscriber that still cares subscribes again and
        gets the current state at once: an idle stream costs a descriptor for nothing)."""
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _Channel({"stage": "waiting"})
        channel.subscribers += 1
        deadline = time.monotonic() + timeout
        try:
            while True:
                waiter = channel.changed
                yield dict(channel.state)
                if channel.state["stage"] in TERMINAL:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    await asyncio.wait_for(waiter.wait(), min(remaining, idle or remaining))
                except TimeoutError:
                    return
        finally:
            channel.subscribers -= 1
            channel.touched = time.monotonic()

    def _purge(self) -> None:
        cutoff = time.monotonic() - self._keep
        stale = [k for k, c in self._channels.items() if c.touched < cutoff and c.subscribers == 0]
        for key in stale:
            del self._channels[key]


class Reporter:
    """What one tunnel publishes while it sends: throttled byte counts, then done or error."""

    def __init__(self, hub: ProgressHub, key: str, *, interval: float = 0.25) -> None:
        self._hub = hub
        self._key = key
        self._interval = interval
        self._last = 0.0
        self._info: dict[str, Any] = {}
        self._started = time.monotonic()
        self._ended = False
        self.bytes = 0
        """Bytes sent so far (the last count given to ``sent`` or ``done``)."""

    def stage(self, stage: str, **info: Any) -> None:
        self._info.update(info)
        self._hub.publish(self._key, stage, **self._info)

    def queued(self, position: int) -> None:
        """In line for a place to run ffmpeg (1: next); not kept for the stages after."""
        self._hub.publish(self._key, "queued", **self._info, position=position)

    def sent(self, nbytes: int, *, force: bool = False) -> None:
        self.bytes = nbytes
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        self._last = now
        elapsed = max(now - self._started, 1e-6)
        self._hub.publish(
            self._key, "progress", **self._info, sent=nbytes, speed=int(nbytes / elapsed)
        )

    def done(self, nbytes: int) -> None:
        self.bytes = nbytes
        self._ended = True
        self._hub.publish(self._key, "done", **self._info, sent=nbytes)

    def failed(self, error: dict[str, Any]) -> None:
        self._ended = True
        self._hub.publish(self._key, "error", **self._info, **error)

    def left(self) -> None:
        """The response ended without ``done`` or an error: the client went away (a cancelled
        download). Said as a final ``cancelled`` error, so a page that follows the tunnel
        stops waiting at once instead of watching a silent stream."""
        if not self._ended:
            self.failed({"error": errors.Cancelled().to_dict()})
