"""The concurrency controller against simulated servers: per-connection and server-wide caps."""

from __future__ import annotations

import asyncio

from mediadl.engine.fetch.adaptive import AdaptiveConcurrency

PER_CONNECTION = 2_500_000.0
TICK = 0.01


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def simulate(pace: AdaptiveConcurrency, clock: Clock, rate_of: object, seconds: float) -> int:
    """Keep ``pace.limit`` requests busy; each tick they deliver what the server allows."""
    highest = pace.limit
    assert callable(rate_of)
    while clock.now < seconds:
        while pace.active < pace.limit:
            await pace.acquire()
            pace.sent()
            pace.answered(0.05)
        while pace.active > pace.limit:
            pace.release()
        per_request = rate_of(pace.active) * TICK / pace.active
        for _ in range(pace.active):
            pace.add(int(per_request))
        clock.now += TICK
        highest = max(highest, pace.limit)
    return highest


async def test_grows_while_each_connection_keeps_its_rate() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: n * PER_CONNECTION, 3.0)
    assert pace.limit == 64


async def test_stays_small_under_a_server_wide_cap() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    highest = await simulate(pace, clock, lambda n: 10_000_000.0, 3.0)
    assert highest <= 4
    assert pace.limit <= 3


async def test_stops_where_the_server_wide_cap_begins() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: min(n, 8) * PER_CONNECTION, 3.0)
    assert 8 <= pace.limit <= 16


async def test_throttling_halves_the_level() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: n * PER_CONNECTION, 1.0)
    before = pace.limit
    pace.throttled()
    assert pace.limit == max(1, before // 2)


async def test_waiters_get_slots_when_the_level_rises() -> None:
    pace = AdaptiveConcurrency(4, initial=1)
    await pace.acquire()
    waiter = asyncio.ensure_future(pace.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    pace.release()
    await asyncio.wait_for(waiter, 1)
    assert pace.active == 1
