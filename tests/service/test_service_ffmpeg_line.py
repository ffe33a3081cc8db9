"""The line for ffmpeg places on its own: order, leaving, and a place handed over as one leaves."""

from __future__ import annotations

import asyncio

import pytest

from mediadl import errors
from mediadl.service.ffmpeg_queue import FFmpegQueue, Place


async def queued(line: FFmpegQueue, count: int) -> None:
    while line.waiting < count:
        await asyncio.sleep(0)


async def test_places_go_in_the_order_asked() -> None:
    line = FFmpegQueue(places=1, wait=600)
    first = await line.take()
    got: list[int] = []

    async def ask(n: int) -> Place:
        place = await line.take()
        got.append(n)
        return place

    tasks = []
    for n in range(4):
        tasks.append(asyncio.create_task(ask(n)))
        await queued(line, n + 1)
    first.release()
    for task in tasks:
        (await task).release()
    assert got == [0, 1, 2, 3]
    assert (line.running, line.waiting) == (0, 0)


async def test_a_waiter_that_leaves_is_skipped_and_the_others_move_up() -> None:
    line = FFmpegQueue(places=1, wait=600)
    first = await line.take()
    positions: list[int] = []
    leaving = asyncio.create_task(line.take())
    await queued(line, 1)
    staying = asyncio.create_task(line.take(positions.append))
    await queued(line, 2)
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    assert positions == [2, 1]
    first.release()
    (await staying).release()
    assert (line.running, line.waiting) == (0, 0)


async def test_a_place_handed_over_as_its_waiter_leaves_goes_to_the_next() -> None:
    line = FFmpegQueue(places=1, wait=600)
    first = await line.take()
    leaving = asyncio.create_task(line.take())
    await queued(line, 1)
    nxt = asyncio.create_task(line.take())
    await queued(line, 2)
    first.release()  # the place is the leaving one's now, but it hasn't woken yet
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    (await nxt).release()
    assert (line.running, line.waiting) == (0, 0)


async def test_past_the_wait_the_answer_is_server_busy_with_a_retry() -> None:
    line = FFmpegQueue(places=1, wait=0.05)
    first = await line.take()
    with pytest.raises(errors.ServerBusy) as refused:
        await line.take()
    assert refused.value.context["retry_after"] > 0
    assert (line.running, line.waiting) == (1, 0)
    first.release()
    first.release()  # once only
    assert line.running == 0
