"""Out-of-order pieces come out in order, within the memory budget, spilling when they must."""

from __future__ import annotations

import asyncio

import pytest

from mediadl import errors
from mediadl.engine.fetch.ordering import InOrder


async def collect(order: InOrder) -> bytes:
    return b"".join([chunk async for chunk in order.chunks()])


async def test_slots_come_out_in_key_order() -> None:
    order = InOrder(first_key=0, budget=1 << 20)
    order.end_at(3)
    reader = asyncio.ensure_future(collect(order))
    for key, data in ((2, b"cc"), (0, b"aa"), (1, b"bb")):
        slot = order.slot(key)
        await order.put(slot, data)
        order.finish(slot, key + 1)
    assert await reader == b"aabbcc"


async def test_pieces_ahead_spill_to_disk_past_the_budget() -> None:
    order = InOrder(first_key=0, budget=10)
    order.end_at(2)
    ahead = order.slot(1)
    for _ in range(5):
        await order.put(ahead, b"0123456789")
    order.finish(ahead, 2)
    assert ahead.spill is not None and ahead.memory <= 10
    head = order.slot(0)
    await order.put(head, b"head")
    order.finish(head, 1)
    assert await collect(order) == b"head" + b"0123456789" * 5


async def test_the_head_waits_for_a_slow_consumer() -> None:
    order = InOrder(first_key=0, budget=8)
    order.end_at(1)
    head = order.slot(0)
    await order.put(head, b"12345")
    blocked = asyncio.ensure_future(order.put(head, b"678"))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    chunks = order.chunks()
    assert await anext(chunks) == b"12345"
    await asyncio.sleep(0)
    assert blocked.done()  # room made, the put goes on at the loop's next turn
    order.finish(head, 1)
    assert [c async for c in chunks] == [b"678"]


async def test_a_failure_reaches_the_consumer() -> None:
    order = InOrder(first_key=0, budget=8)
    order.fail(ValueError("boom"))
    try:
        await collect(order)
    except ValueError as exc:
        assert str(exc) == "boom"
    else:
        raise AssertionError("no error")


async def test_spilled_bytes_count_against_the_disk_budget_until_read_past() -> None:
    order = InOrder(first_key=0, budget=10, disk_budget=30)
    order.end_at(3)
    second, third = order.slot(1), order.slot(2)
    await order.put(second, b"0123456789")  # in memory: the budget is used up
    await order.put(second, b"0123456789")  # on disk: 10
    await order.put(third, b"abcdefghij" * 2)  # on disk: 30
    assert order.disk == 30
    with pytest.raises(errors.ContentTooLarge):
        await order.put(third, b"x")
    order.close()
    assert order.disk == 0
    assert second.spill is None and third.spill is None


async def test_a_slot_file_is_freed_once_read_past() -> None:
    order = InOrder(first_key=0, budget=10, disk_budget=40)
    order.end_at(3)
    second, third = order.slot(1), order.slot(2)
    await order.put(second, b"0123456789" * 2)  # on disk: 20
    order.finish(second, 2)
    await order.put(third, b"abcdefghijk")  # on disk: 31
    head = order.slot(0)
    await order.put(head, b"head")
    order.finish(head, 1)
    chunks = order.chunks()
    assert await anext(chunks) == b"head"
    assert await anext(chunks) == b"0123456789" * 2
    assert await anext(chunks) == b"abcdefghijk"
    assert order.disk == 11  # the second slot's file is gone
    await chunks.aclose()
    order.close()
    assert order.disk == 0
