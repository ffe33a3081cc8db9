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

A host that pushes back (a ``429``/``503``, a reset) lowers its gate for the whole process, not
only the download that was told: :meth:`HostGate.pushed_back` halves the places to half of those
open (once for a burst: pushback within ``BURST`` seconds of a halving was provoked by the old
level), and :meth:`HostGate.answered` gives one place back per round of good answers (one per
place), after ``HOLD`` seconds, up to the configured cap — additive increase, multiplicative
decrease, as TCP does. Two downloads from one CDN thus settle near its allowance together instead
of each probing past it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "BURST",
    "FORGET",
    "HANDOVER",
    "HOLD",
    "HostGate",
    "Place",
    "forget_pushback",
    "gate_for",
]

HANDOVER = 0.1
"""Seconds between a place given back and its next holder connecting."""
BURST = 1.0
"""Pushback within this many seconds of a halving belongs to the same burst."""
HOLD = 5.0
"""Seconds after a halving before places are given back."""
FORGET = 60.0
"""Seconds without pushback after which a host gets all its places again at once."""


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
    """A counting semaphore for one host, usable from any thread and event loop, whose size
    follows the host's pushback."""

    cap: int
    """The most places, as configured."""
    limit: int = 0
    """The places now (``cap``, or less after pushback)."""
    open: int = 0
    peak: int = 0
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: deque[_Waiter] = field(default_factory=deque)
    _lowered_at: float | None = None
    _good: int = 0
    """Good answers since the last place given back."""

    def __post_init__(self) -> None:
        self.limit = self.limit or self.cap

    async def enter(self) -> Place:
        """Wait for a place (first come, first served) and take it."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._forget(self.clock())
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
        """Someone waits for a place, or more are open than the host now gets: an idle
        connection should close rather than stay open."""
        return bool(self._waiters) or self.open > self.limit

    def resize(self, cap: int) -> None:
        """A new configured cap: the places start again from it."""
        with self._lock:
            self.cap = self.limit = cap
            self._lowered_at = None
            self._dispatch()

    def pushed_back(self) -> None:
        """The host asked for less (429, 503, a reset): half the places open now, at least one."""
        now = self.clock()
        with self._lock:
            if self._lowered_at is not None and now - self._lowered_at < BURST:
                return
            self.limit = max(1, min(self.limit, self.open) // 2)
            self._lowered_at, self._good = now, 0

    def answered(self) -> None:
        """A request was answered well: after a round of them, one more place (up to ``cap``)."""
        if self.limit >= self.cap:
            return
        now = self.clock()
        with self._lock:
            if self._forget(now) or (
                self._lowered_at is not None and now - self._lowered_at < HOLD
            ):
                return
            self._good += 1
            if self._good >= self.limit:
                self.limit, self._good = min(self.cap, self.limit + 1), 0
                self._dispatch()

    def _forget(self, now: float) -> bool:
        """All places back when the last pushback is ``FORGET`` seconds old (under the lock)."""
        if self._lowered_at is None or now - self._lowered_at < FORGET:
            return False
        self.limit, self._lowered_at = self.cap, None
        self._dispatch()
        return True

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


def forget_pushback() -> None:
    """Every host gets all its places again (a fresh start, as for a new process)."""
    with _gates_lock:
        gates = list(_gates.values())
    for gate in gates:
        gate.resize(gate.cap)


def gate_for(host: str, limit: int) -> HostGate:
    """The process's gate for ``host``; a call with another ``limit`` changes it for everyone."""
    key = host.lower()
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = HostGate(limit)
    if gate.cap != limit:
        gate.resize(limit)
    return gate
