"""The speed cap: what it asks each transfer to wait, on a clock the test holds."""

from __future__ import annotations

import asyncio

import pytest

from mediadl.engine.fetch.rate import BURST_SECONDS, ByteRate


async def test_the_waits_add_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(asyncio, "sleep", sleep)
    rate = ByteRate(1000, clock=lambda: now[0])
    for _ in range(40):
        await rate.take(250)  # 10 seconds' worth at 1000 bytes a second
    assert now[0] - 100.0 == pytest.approx(10.0 - BURST_SECONDS)
    assert max(waits) <= 0.25 + 1e-9


async def test_an_idle_download_gets_no_credit_beyond_the_burst(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(asyncio, "sleep", sleep)
    rate = ByteRate(1000, clock=lambda: now[0])
    now[0] = 60.0  # a minute without a byte
    await rate.take(2000)
    assert sum(waits) == pytest.approx(2.0 - BURST_SECONDS)
