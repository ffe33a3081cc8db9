"""At most N connections open to one host, for everything one process downloads from it.

CDNs answer a client that opens many connections with 429s, throttling or a ban of its address;
aria2c caps itself at 16 per server for that reason. Each download has its own connection pool
(and, in the CLI and the service's worker threads, its own event loop), so a cap per pool would let
two downloads from one host open twice the cap. :class:`HostGate` is shared by the whole process:
a connection takes a place before it is opened and gives it back when it closes, whatever event
loop it lives on (the gate is thread-safe; a waiter is woken on its own loop).

A place held by an idle keep-alive connection is wanted back when someone else waits for one:
:meth:`HostGate.wanted` tells the pool to close a connection instead of keeping it (one that sits
idle in a pool that makes no request keeps its place until the pool drops it: the end of its
download, or its keep-alive time, 30 s). The server
learns of a close a moment after the client (its FIN has to arrive and be read), so a place given
back is taken up by a waiter only ``HANDOVER`` seconds later: the host never sees more than the
cap open, even for an instant.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

__all__ = ["HANDOVER", "HostGate", "Place", "gate_for"]

HANDOVER = 0.1
"""Seconds between a place given back and its next holder connecting."""


@dataclass(eq=False)
class Place:
    """One connection's place at the gate; :meth:`release` is idempotent."""

    gate: HostGate
    held: bool = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.gate._give_back()


@dataclass(eq=False)
class _Waiter:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = False
    """A place was taken for this waiter (under the gate's lock)."""


@dataclass(eq=False)
class HostGate:
    """A counting semaphore for one host, usable from any thread and event loop."""

    limit: int
    open: int = 0
    peak: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: deque[_Waiter] = field(default_factory=deque)

    async def enter(self) -> Place:
        """Wait for a place (first come, first served) and take it."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.open < self.limit and not self._waiters:
                self._take()
                return Place(self)
            waiter = _Waiter(loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                if not waiter.granted:
                    self._waiters.remove(waiter)
            if waiter.granted:
                Place(self).release()  # the place was ours already: hand it on
            raise
        return Place(self)

    @property
    def wanted(self) -> bool:
        """Someone waits for a place: an idle connection should close rather than stay open."""
        return bool(self._waiters)

    def resize(self, limit: int) -> None:
        with self._lock:
            self.limit = limit
            self._dispatch()

    def _take(self) -> None:
        self.open += 1
        self.peak = max(self.peak, self.open)

    def _give_back(self) -> None:
        with self._lock:
            self.open -= 1
            self._dispatch()

    def _dispatch(self) -> None:
        while self._waiters and self.open < self.limit:
            waiter = self._waiters.popleft()
            if waiter.loop.is_closed():
                continue
            self._take()
            waiter.granted = True
            waiter.loop.call_soon_threadsafe(_wake_soon, waiter.future)


def _wake_soon(future: asyncio.Future[None]) -> None:
    asyncio.get_running_loop().call_later(HANDOVER, _wake, future)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # a cancelled waiter gives its place back itself
        future.set_result(None)


_gates: dict[str, HostGate] = {}
_gates_lock = threading.Lock()


def gate_for(host: str, limit: int) -> HostGate:
    """The process's gate for ``host``; a call with another ``limit`` changes it for everyone."""
    key = host.lower()
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = HostGate(limit)
    if gate.limit != limit:
        gate.resize(limit)
    return gate
