"""Pieces that arrive out of order, handed to one consumer in order, in bounded memory.

Each piece of the output (a byte range of a progressive file, a segment of a stream) is a
:class:`Slot`, keyed by where it starts (an offset, or a segment index). Producers put bytes into
their slot as they arrive; the consumer reads the head slot as soon as it has bytes, then moves to
the slot its ``follow`` key names. Memory held is bounded by ``budget``: the head slot waits for a
slow consumer, other slots spill to an unlinked temporary file when the budget is used up. The
disk those files take is bounded by ``disk_budget`` when given (a stream's ``stream_disk_max``):
past it the stream fails with ``content.too_large``; a slot's file goes once the consumer has read
it, and every file when the stream is closed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from mediadl import errors

__all__ = ["InOrder", "Slot"]


class Slot:
    """One in-order piece: its bytes in memory or spilled to disk, and which slot follows it."""

    __slots__ = ("done", "follow", "items", "key", "memory", "spill", "spill_size")

    def __init__(self, key: int) -> None:
        self.key = key
        self.follow: int | None = None
        self.done = False
        self.items: deque[bytes | tuple[int, int]] = deque()
        self.memory = 0
        self.spill: BinaryIO | None = None
        self.spill_size = 0

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None


class InOrder:
    """Slots in, one ordered byte stream out."""

    def __init__(
        self,
        *,
        first_key: int,
        budget: int,
        spill_dir: Path | None = None,
        disk_budget: int | None = None,
    ) -> None:
        self.budget = budget
        self.spill_dir = spill_dir
        self.disk_budget = disk_budget
        self.disk = 0
        """Bytes in spill files now (freed as the consumer moves past their slots)."""
        self.delivered = 0
        """Bytes handed to the consumer so far."""
        self._expect = first_key
        self._end: int | None = None
        self._slots: dict[int, Slot] = {}
        self._memory = 0
        self._changed = asyncio.Event()
        self._drained = asyncio.Event()
        self._error: BaseException | None = None

    @property
    def head_key(self) -> int:
        return self._expect

    def slot(self, key: int) -> Slot:
        """The slot that starts at ``key``, created on first use."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = Slot(key)
        return slot

    async def put(self, slot: Slot, data: bytes) -> None:
        """Add ``data`` at the end of ``slot``; waits while the consumer is behind on the head."""
        if self._error is not None:
            raise self._error
        if slot.key == self._expect:
            while slot.memory > self.budget // 2 and self._error is None:
                self._drained.clear()
                await self._drained.wait()
        elif self._memory + len(data) > self.budget:
            self._spill(slot, data)
            return
        slot.items.append(data)
        slot.memory += len(data)
        self._memory += len(data)
        self._changed.set()

    def _spill(self, slot: Slot, data: bytes) -> None:
        if self.disk_budget is not None and self.disk + len(data) > self.disk_budget:
            error = errors.ContentTooLarge(
                "The parts of this stream that arrive ahead of their turn need more temporary "
                "space than this server allows for one download.",
                limit=self.disk_budget,
            )
            self.fail(error)
            raise error
        if slot.spill is None:
            slot.spill = tempfile.TemporaryFile(dir=self.spill_dir)  # noqa: SIM115 - closed with the slot
        os.pwrite(slot.spill.fileno(), data, slot.spill_size)
        slot.items.append((slot.spill_size, len(data)))
        slot.spill_size += len(data)
        self.disk += len(data)
        self._changed.set()

    def finish(self, slot: Slot, follow: int) -> None:
        """``slot`` is complete; ``follow`` is the key of the slot after it."""
        slot.done, slot.follow = True, follow
        self._changed.set()

    def end_at(self, key: int) -> None:
        """The stream ends when the consumer reaches the slot key ``key``."""
        self._end = key
        self._changed.set()

    def fail(self, error: BaseException) -> None:
        """Stop: the consumer (and waiting producers) raise ``error``."""
        if self._error is None:
            self._error = error
        self._changed.set()
        self._drained.set()

    def close(self) -> None:
        for slot in self._slots.values():
            self._close(slot)
        self._slots.clear()

    def _close(self, slot: Slot) -> None:
        self.disk -= slot.spill_size
        slot.spill_size = 0
        slot.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The ordered stream; raises what ``fail`` was given."""
        while True:
            if self._error is not None:
                raise self._error
            if self._end is not None and self._expect >= self._end:
                return
            slot = self._slots.get(self._expect)
            if slot is not None and slot.items:
                data = self._take(slot)
                self.delivered += len(data)
                yield data
            elif slot is not None and slot.done and slot.follow is not None:
                del self._slots[self._expect]
                self._close(slot)
                self._expect = slot.follow
                self._drained.set()
            else:
                self._changed.clear()
                await self._changed.wait()

    def _take(self, slot: Slot) -> bytes:
        item = slot.items.popleft()
        if isinstance(item, bytes):
            slot.memory -= len(item)
            self._memory -= len(item)
            self._drained.set()
            return item
        offset, length = item
        assert slot.spill is not None
        return os.pread(slot.spill.fileno(), length, offset)
