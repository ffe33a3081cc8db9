"""The in-process moving window: the library's answers, on a clock the test moves."""

from __future__ import annotations

from limits import parse

from mediadl.service.window import SWEEP, InProcessWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_limit_refuses_past_its_amount_until_the_oldest_hit_leaves() -> None:
    clock, three = Clock(), parse("3/minute")
    window = InProcessWindow(clock)
    for step in range(3):
        assert await window.hit(three, "a")
        clock.now += 10 if step < 2 else 0
    assert not await window.hit(three, "a")
    stats = await window.get_window_stats(three, "a")
    assert stats.remaining == 0
    assert stats.reset_time == 1000.0 + 60  # when the oldest hit leaves the window
    clock.now = 1000.0 + 61  # the first hit left; the refused one never counted
    assert await window.hit(three, "a")
    assert not await window.hit(three, "a")
    assert (await window.get_window_stats(three, "a")).reset_time == 1010.0 + 60


async def test_clients_and_limits_are_counted_apart() -> None:
    clock, one, two = Clock(), parse("1/minute"), parse("2/hour")
    window = InProcessWindow(clock)
    assert await window.hit(one, "a")
    assert not await window.hit(one, "a")
    assert await window.hit(one, "b")
    assert await window.hit(two, "a")
    stats = await window.get_window_stats(two, "a")
    assert (stats.remaining, stats.reset_time) == (1, 1000.0 + 3600)
    fresh = await window.get_window_stats(one, "c")
    assert (fresh.remaining, fresh.reset_time) == (1, 1000.0 + 60)


async def test_counters_of_clients_gone_are_dropped() -> None:
    clock, limit = Clock(), parse("5/minute")
    window = InProcessWindow(clock)
    for client in range(1000):
        assert await window.hit(limit, str(client))
    clock.now += max(SWEEP, 60) + 1
    assert await window.hit(limit, "new")
    assert len(window) == 1  # a departed client's counter holds no memory
