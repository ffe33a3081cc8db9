"""How many requests run at once: grow while more requests bring more bytes, shrink when told to.

Sites throttle each connection, or the whole server, or both. A per-connection cap shows as an
aggregate rate that grows in step with the number of requests receiving a body; a server-wide cap
as a rate that stays put however many receive. So :class:`AdaptiveConcurrency` measures, over a
short window, the aggregate rate and the average number of requests receiving (body time; the
latency before each answer doesn't count), and compares both with the last level that paid off.
Counting receivers rather than slots keeps the comparison fair when a level is full of small
segments that spend most of their time waiting for an answer (an audio rendition beside video).

It starts at two requests, waits until the requests of a new level have their answers, measures a
short window and decides: doubling first (under a server-wide cap that costs two connections, and
four is all it ever opens), then doubling again, or growing sixteenfold once a step paid off in
full, so a site that caps each connection has every segment of a short download in flight a few
tenths of a second after the first answer. The first doubling depends on nothing the first window
shows, so its requests go out when the first requests are answered, timed by the fastest answer so
far to be answered as that window closes: the window still measures the first level alone, and
the doubled level is measured a window and a request's latency sooner. A level that doesn't pay is
looked at twice (one short window is often noisy), then the controller goes back to where the
rate says the cap begins (never below the last level that paid off); a second miss keeps it there
for half a minute before it tries one step up (conditions change during a long download), a first
one only for a second before the same step is tried again (a loaded machine can spoil the windows
of one try). A ``429``/``503`` or a connection the server resets halves the level (once for a
burst of them, and at most to the connections the process now allows the host) and holds it too;
a ``Retry-After`` keeps every new request of the download waiting that long (the server asked
the client, not one request, to wait).

The streams of one download share its slots. A stream of sound beside one of picture (DASH, HLS
renditions) has small parts, whose requests spend most of their time waiting for an answer: it
sends one at a time while the picture still has parts to send and is no further along than the
sound (a share of its parts done), and so the slots of each step go to the picture, whose parts
carry the bytes. Falling behind, the sound takes slots as they come, so the two stay in step for
whatever reads them together.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

__all__ = ["AdaptiveConcurrency", "Flow", "Lane", "Pace"]

log = logging.getLogger("mediadl.fetch")

MAX_SETTLE = 1.0
"""Longest wait, in seconds, for the requests of a new level to be answered."""
MIN_WINDOW = 0.05
"""Shortest measuring window, in seconds."""
WINDOW_LATENCIES = 1.0
EARLY_WINDOW = 0.04
"""A level whose rate already shows nearly full proportional gain is judged after this long."""
EARLY_SCORE = 0.95
LINEAR = 0.85
"""A step whose gain is this close to proportional is followed by a bigger one."""
BIG_STEP = 16
"""Growth after a step that paid off in full: 2, 4, then 64 under a per-connection cap."""
MIN_GAIN = 1.15
"""A window whose receivers didn't grow by this much over the base says nothing of a cap."""
BURST_LATENCIES = 3.0
"""After a halving, pushback answered within this many request latencies (past any Retry-After
pause) belongs to the same burst: it was sent at the old level, so it doesn't halve again."""
SETTLE_SECONDS = 30.0
"""How long a level found to be the cap (or a 429/503's half) holds before one step up is tried."""
RECHECK_SECONDS = 1.0
"""After the first step that didn't pay, how long before the same step is tried again: on a
loaded machine the rates of two short windows can mislead, and a download held at two requests
for half a minute is a costly mistake. A second disappointment settles the level."""


class Pace(Protocol):
    """What a transfer tells the concurrency controller."""

    def add(self, nbytes: int, request: object = None) -> None: ...

    def sent(self) -> None: ...

    def answered(self, latency: float | None) -> None: ...

    def receiving(self, started: bool, request: object = None) -> None: ...

    def throttled(self, retry_after: float | None = None, ceiling: int | None = None) -> None: ...

    async def requeue(self) -> None: ...


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
        self._base: Window | None = None
        self._settled_until = 0.0
        self._doubling = True
        self._factor = 2
        self._first_step = True
        self._measured: int | None = None
        """Once the first step's requests are out, until the first window is judged: the level
        that window measures (below ``limit``)."""
        self._step_at: float | None = None
        """When the first step's requests go out (the first level is answered, not yet judged)."""
        self._step_counts = (0, 0, 0)
        """Requests sent and answered before the first step, and the slots it added."""
        self._fastest = math.inf
        self._disappointed = 0
        self._first_look: Window | None = None
        self._changed_at = 0.0
        self._count_from: float | None = None
        self._started = self._answered = self._new_slots = 0
        self._window = MIN_WINDOW
        self._bytes = 0
        self._receiving = 0
        self._body_time = 0.0
        self._marked = clock()
        self._paused_until = 0.0
        self._quiet_until = 0.0
        self._saturated = True
        self._lanes: list[Lane] = []
        self._flows: dict[object, Flow] = {}
        """Each receiving request that says which it is: when its last bytes came, at what rate."""
        self._restart_window(clock())

    # --- slots --------------------------------------------------------------------------------

    async def acquire(self) -> None:
        while (pause := self._paused_until - self._clock()) > 0:
            await asyncio.sleep(pause)
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

    async def requeue(self) -> None:
        """Give the caller's slot back and wait for one again: after a ``throttled``, a request
        that was pushed back retries only when the lowered level (and any pause) allow it."""
        self.release()
        try:
            await self.acquire()
        except asyncio.CancelledError:
            self.active += 1  # the caller still releases the slot it believes it holds
            raise

    def _dispatch(self) -> None:
        while self._waiters and self.active < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)

    # --- the streams sharing the slots ------------------------------------------------------------

    @contextmanager
    def lane(self, *, picture: bool, parts: int) -> Iterator[Lane]:
        """One stream's parts, from the first sent to the last one done."""
        lane = Lane(picture, parts)
        self._lanes.append(lane)
        try:
            yield lane
        finally:
            self._lanes.remove(lane)

    def holds_back(self, lane: Lane, in_flight: int) -> bool:
        """Whether ``lane``, with ``in_flight`` requests out, waits before sending another: a
        stream of sound with a request out, while a stream of picture has parts to send and is
        no further along."""
        if lane.picture or in_flight == 0:
            return False
        share = lane.share_done
        return any(o.picture and o.sending and o.share_done <= share for o in self._lanes)

    # --- what transfers report ------------------------------------------------------------------

    def sent(self) -> None:
        """A request went out."""
        self._started += 1

    def answered(self, latency: float | None) -> None:
        """A request got its response headers after ``latency`` seconds (``None``: it failed)."""
        if latency is not None:
            self._latency = 0.7 * self._latency + 0.3 * max(0.0, latency)
            self._fastest = min(self._fastest, max(0.0, latency))
        self._answered += 1
        if (
            self._first_step
            and self._base is None
            and self._count_from is None
            and self._step_at is None
            and self._answered >= min(self._started, self.limit)
            and self.limit < self.maximum
        ):  # the first level is answered: its window opens with the next bytes, and the first
            # step goes out in time to be answered as the window ends
            now = self._clock()
            self._step_at = now + max(0.0, self._window - min(self._fastest, self._latency))
            self._step_when_due(now)

    def _step_when_due(self, now: float) -> None:
        if self._step_at is not None and now >= self._step_at and now >= self._settled_until:
            self._step_early()

    def receiving(self, started: bool, request: object = None) -> None:
        """A response body started (``True``) or stopped (``False``) streaming; ``request``:
        which one (its bytes then count by the time they took, see :meth:`add`)."""
        now = self._clock()
        self._mark(now)
        self._receiving += 1 if started else -1
        if request is not None:
            if started:
                self._flows[request] = Flow(now)
            else:
                self._flows.pop(request, None)

    def _mark(self, now: float) -> None:
        """Integrate, since the last event, the number of requests receiving."""
        self._body_time += self._receiving * (now - self._marked)
        self._marked = now

    def throttled(self, retry_after: float | None = None, ceiling: int | None = None) -> None:
        """The server pushed back (429, 503, a reset): halve the level and stay there; with a
        ``Retry-After``, no new request before it has passed. ``ceiling``: the connections the
        process now allows the host (a level above it would hand work to requests that only
        wait for a connection)."""
        now = self._clock()
        if retry_after:
            self._paused_until = max(self._paused_until, now + retry_after)
        most = self.limit if ceiling is None else max(1, min(self.limit, ceiling))
        if now < self._quiet_until:  # the same burst: sent before the last halving
            if most < self.limit:
                self._set_limit(most, now)
            return
        self._quiet_until = max(self._paused_until, now) + BURST_LATENCIES * self._latency
        self._base_limit, self._base, self._doubling = 0, None, False
        self._settled_until = now + SETTLE_SECONDS
        self._set_limit(max(1, min(most, self.limit // 2)), now)

    def add(self, nbytes: int, request: object = None) -> None:
        """Bytes arrived on one of the requests (``request``: which, as told to
        :meth:`receiving`).

        Bytes come in bursts (a socket read, a server's write: 64 KB every 26 ms on a connection
        at 2.5 MB/s), and a window of 50 ms holds only two or three of them per request: counted
        as they arrive, a window's rate depends on where its edges fall among them, and requests
        started together fall alike (the first window of a step read 25 % low). So the bytes of a
        request that says which it is count by the time they took: a burst that began before the
        window counts for the part of its time inside, and a window ends with what each request
        has received since its last burst, at that burst's rate. Its first burst doesn't count: it
        leaves with the answer, as much as the server had ready (a segment of 32 KB is one burst
        and no time), and says nothing of the pace after it."""
        now = self._clock()
        self._mark(now)
        self._step_when_due(now)
        flow = self._flows.get(request) if request is not None else None
        since = flow.last if flow is not None else None
        if flow is not None:
            opening = not flow.bursts
            flow.arrived(now, nbytes)
            if opening:  # sent as soon as the answer was: no measure of the pace after it
                nbytes = 0
        if self._count_from is None:
            waiting = max(self._started, self._new_slots)
            first = self._step_at is not None or self._measured is not None
            if self._answered < waiting and not first and now < self._changed_at + MAX_SETTLE:
                return
            self._count_from, self._body_time = now, 0.0
            return
        if since is not None and since < self._count_from < now:
            nbytes = round(nbytes * (now - self._count_from) / (now - since))
        self._bytes += nbytes
        if self.active < (self._measured or self.limit):
            self._saturated = False
        elapsed = now - self._count_from
        if elapsed >= self._window or (elapsed >= EARLY_WINDOW and self._clearly_pays()):
            self._evaluate(self._window_seen(now))

    def _clearly_pays(self) -> bool:
        """Growth that is plain before the window ends needn't wait for it."""
        if not self._saturated or self._base is None or self._first_look is not None:
            return False
        seen = self._window_seen(self._marked)
        expected = seen.receivers / self._base.receivers if self._base.receivers else 0.0
        return expected >= MIN_GAIN and seen.rate >= self._base.rate * expected * EARLY_SCORE

    def _window_seen(self, now: float) -> Window:
        assert self._count_from is not None
        start = self._count_from
        owed = sum(f.owed(now, start) for f in self._flows.values())
        return Window(self._bytes + round(owed), now - start, self._body_time)

    @property
    def latency(self) -> float:
        """Seconds from a request to its answer, smoothed over the last ones (0.05 at first)."""
        return self._latency

    @property
    def per_request_rate(self) -> float:
        """Bytes per second a receiving request got at the last level that paid off (0: unknown)."""
        return self._base.per_request if self._base is not None else 0.0

    # --- the decision ---------------------------------------------------------------------------

    def _evaluate(self, seen: Window) -> None:
        now = self._marked
        log.debug(
            "concurrency %d (base %d): %.0f B/s, %.1f receiving%s",
            self.limit,
            self._base_limit,
            seen.rate,
            seen.receivers,
            "" if self._saturated else " (not saturated)",
        )
        if not self._saturated:
            if self._measured is not None:  # the first step can't be judged against this window
                self.limit, self._first_step = self._measured, True
            self._restart_window(now)  # too little work to judge this level
            return
        if self._first_look is not None:  # judge both windows together
            seen += self._first_look
        base = self._base
        if base is None or base.rate <= 0 or base.receivers <= 0 or self.limit <= self._base_limit:
            self._accept(seen, now, grow=True)  # nothing to compare with: a new base
            return
        expected = seen.receivers / base.receivers
        gain = seen.rate / base.rate
        score = (gain - 1) / (expected - 1) if expected >= MIN_GAIN else 0.0
        if score >= 0.5:
            self._factor = BIG_STEP if score >= LINEAR else 2
            self._accept(seen, now, grow=True)
        elif self._first_look is None:
            self._restart_window(now)  # one window is often noisy: look once more first
            self._first_look = seen
        elif score >= 0.2:
            self._accept(seen, now, grow=False)
        else:  # back to where the rate says the cap begins, at least the last good level
            fit = round(gain * self._base_limit)
            self._disappointed += 1
            if self._disappointed > 1:  # confirmed: the cap is here
                self._doubling, self._settled_until = False, now + SETTLE_SECONDS
            else:  # a busy machine can spoil two windows: the same step once more, soon
                self._settled_until = now + RECHECK_SECONDS
            self._set_limit(max(self._base_limit, min(self.limit - 1, fit)), now)

    def _accept(self, seen: Window, now: float, *, grow: bool) -> None:
        stepped = self._measured
        self._base_limit, self._base = stepped or self.limit, seen
        if stepped is not None:  # the first step's requests are out: the next window is theirs
            self._restart_window(now, stepped=True)
            return
        if not grow:
            self._doubling, self._settled_until = False, now + SETTLE_SECONDS
        if now < self._settled_until or self.limit >= self.maximum:
            self._restart_window(now)
            return
        if self._first_step:  # a small first probe: doubling, whatever the first rate said
            self._first_step, step = False, self.limit
        elif self._doubling:
            step = self.limit * (self._factor - 1)
        else:
            step = max(1, self.limit // 4)
        self._set_limit(min(self.maximum, self.limit + step), now)

    def _step_early(self) -> None:
        """The first step, taken before the first window is judged: its requests are answered
        about as that window closes, and the next window measures them."""
        self._first_step, self._step_at, self._measured = False, None, self.limit
        grown = min(self.maximum, 2 * self.limit) - self.limit
        self._step_counts = (self._started, self._answered, grown)
        self.limit += grown
        self.peak = max(self.peak, self.limit)
        self._dispatch()

    def _set_limit(self, limit: int, now: float) -> None:
        grown = limit - self.limit
        self.limit = limit
        self.peak = max(self.peak, limit)
        self._restart_window(now)
        self._new_slots = max(0, grown)  # the window opens once their requests are answered
        self._dispatch()

    def _restart_window(self, now: float, *, stepped: bool = False) -> None:
        """A new window, opened once the requests of the level are answered; ``stepped``: those
        are the first step's, counted since they went out."""
        self._first_look = None
        self._changed_at = now
        self._count_from = None
        self._measured = self._step_at = None
        if stepped:  # the window waits for the answers to the first step's requests
            started, answered, self._new_slots = self._step_counts
            self._started -= started
            self._answered -= answered
        else:
            self._started = self._answered = self._new_slots = 0
        self._window = max(MIN_WINDOW, WINDOW_LATENCIES * self._latency)
        self._bytes = 0
        self._body_time = 0.0
        self._saturated = True


@dataclass(eq=False, slots=True)
class Flow:
    """One receiving request's bursts of bytes."""

    last: float
    """When its last bytes came (or its body began)."""
    rate: float = 0.0
    """Bytes per second over the time its last burst took (0 until a burst follows another:
    the first comes as fast as the answer was ready, whatever the pace after it)."""
    gap: float = 0.0
    """The time its last burst took."""
    bursts: int = 0

    def arrived(self, now: float, nbytes: int) -> None:
        if self.bursts and now > self.last:
            self.rate, self.gap = nbytes / (now - self.last), now - self.last
        self.last, self.bursts = now, self.bursts + 1

    def owed(self, now: float, start: float) -> float:
        """Bytes received since ``start`` and its last burst, at that burst's rate (at most
        one burst: a request that stalls owes no more)."""
        return self.rate * min(now - max(self.last, start), self.gap)


@dataclass(eq=False, slots=True)
class Lane:
    """One stream of a download as the slots are shared: picture or sound, how far along."""

    picture: bool
    parts: int
    done: int = 0
    sending: bool = True
    """Parts are left to send."""

    @property
    def share_done(self) -> float:
        return self.done / self.parts if self.parts else 1.0


@dataclass(frozen=True, slots=True)
class Window:
    """What one measuring window saw."""

    bytes: int
    seconds: float
    body_time: float
    """Summed over requests: seconds spent receiving a body."""

    def __add__(self, other: Window) -> Window:
        return Window(
            self.bytes + other.bytes,
            self.seconds + other.seconds,
            self.body_time + other.body_time,
        )

    @property
    def rate(self) -> float:
        """All requests together, bytes per second."""
        return self.bytes / self.seconds if self.seconds > 0 else 0.0

    @property
    def receivers(self) -> float:
        """Requests receiving a body, on average."""
        return self.body_time / self.seconds if self.seconds > 0 else 0.0

    @property
    def per_request(self) -> float:
        """One request's rate while its body streams."""
        return self.bytes / self.body_time if self.body_time > 0 else 0.0
