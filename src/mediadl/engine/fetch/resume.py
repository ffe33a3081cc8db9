"""What of a ``.part`` file is already on disk, written down beside it so a later run goes on.

A resumable download keeps ``name.part`` and ``name.part.json`` when it stops (Ctrl-C, a failure,
even a killed process: the record is rewritten a few times a second and only ever names bytes
already written). The record says which byte ranges of a progressive file are there, or how many
parts of a segmented stream (and how many bytes they make), and what the source looked like then
(its size and validator, or its list of parts): a source that changed starts again from zero.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["SAVE_INTERVAL", "Journal", "Ranges", "Stale"]

SAVE_INTERVAL = 0.5
"""Seconds between two rewrites of the record while bytes arrive."""


class Stale(Exception):
    """The source isn't what the record describes (size, validator, no ranges): start over."""


class Ranges:
    """Disjoint, sorted ``[start, end)`` byte ranges; touching ones merge."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        i = bisect.bisect_left(self._ends, start)  # first range that ends at or after start
        j = bisect.bisect_right(self._starts, end)  # ranges from i to j touch [start, end)
        if i < j:
            start = min(start, self._starts[i])
            end = max(end, self._ends[j - 1])
        self._starts[i:j] = [start]
        self._ends[i:j] = [end]

    def covered(self) -> int:
        return sum(e - s for s, e in zip(self._starts, self._ends, strict=True))

    def spans(self) -> list[tuple[int, int]]:
        return list(zip(self._starts, self._ends, strict=True))

    def end_of_range_at(self, pos: int) -> int:
        """``pos`` itself when it isn't inside a range, else the end of the range holding it."""
        i = bisect.bisect_right(self._starts, pos) - 1
        return self._ends[i] if i >= 0 and self._ends[i] > pos else pos

    def next_start(self, pos: int) -> int | None:
        """Where the first range starting after ``pos`` begins."""
        i = bisect.bisect_right(self._starts, pos)
        return self._starts[i] if i < len(self._starts) else None

    def __bool__(self) -> bool:
        return bool(self._starts)


class Journal:
    """The record of one ``.part`` file, at ``<part>.json``."""

    def __init__(self, part: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = part.with_name(part.name + ".json")
        self.ranges = Ranges()
        self.total: int | None = None
        self.validator: str | None = None
        self.fingerprint: str | None = None
        self.parts = 0
        self.bytes = 0
        self._clock = clock
        self._next = 0.0
        self._load()

    # --- progressive files ----------------------------------------------------------------------

    def check_source(self, total: int | None, validator: str | None, *, ranged: bool) -> None:
        """Raise :class:`Stale` unless the source is the one the ranges on disk came from."""
        if not self.ranges:
            self.total, self.validator = total, validator
            return
        if not ranged or total != self.total:
            raise Stale("the file's size changed or its server ignores ranges")
        if validator and self.validator and validator != self.validator:
            raise Stale("the file changed on its server")
        self.validator = self.validator or validator

    def wrote(self, offset: int, size: int) -> None:
        self.ranges.add(offset, offset + size)
        self.save()

    # --- segmented streams ----------------------------------------------------------------------

    def check_parts(self, keys: Iterable[object]) -> None:
        """Forget what is recorded when the stream's list of parts isn't the recorded one."""
        digest = hashlib.sha256(json.dumps(list(map(str, keys))).encode()).hexdigest()[:32]
        if digest != self.fingerprint:
            self.reset()
            self.fingerprint = digest

    def part_done(self, parts: int, size: int) -> None:
        self.parts, self.bytes = parts, size
        self.save(force=True)

    # --- the record -----------------------------------------------------------------------------

    def reset(self) -> None:
        self.ranges = Ranges()
        self.total = self.validator = self.fingerprint = None
        self.parts = self.bytes = 0
        self.save(force=True)

    def save(self, *, force: bool = False) -> None:
        """Rewrite the record (at most every ``SAVE_INTERVAL`` seconds unless ``force``)."""
        now = self._clock()
        if not force and now < self._next:
            return
        self._next = now + SAVE_INTERVAL
        state = {
            "total": self.total,
            "validator": self.validator,
            "ranges": self.ranges.spans(),
            "fingerprint": self.fingerprint,
            "parts": self.parts,
            "bytes": self.bytes,
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        temporary.replace(self.path)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _load(self) -> None:
        try:
            state: Any = json.loads(self.path.read_text(encoding="utf-8"))
            size = self.path.with_name(self.path.name.removesuffix(".json")).stat().st_size
            ranges = Ranges((int(s), int(e)) for s, e in state.get("ranges") or ())
            total = state.get("total")
            parts, written = int(state.get("parts") or 0), int(state.get("bytes") or 0)
        except (OSError, ValueError, TypeError, AttributeError):
            return  # no record, or one we can't read: start from zero
        if written > size or any(e > size for _, e in ranges.spans()):
            return  # the file is shorter than the record says: trust neither
        self.ranges, self.parts, self.bytes = ranges, parts, written
        self.total = total if isinstance(total, int) else None
        validator, fingerprint = state.get("validator"), state.get("fingerprint")
        self.validator = validator if isinstance(validator, str) else None
        self.fingerprint = fingerprint if isinstance(fingerprint, str) else None
