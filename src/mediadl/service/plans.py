"""The plan of each tunnel's link, decided once per (info, choice) and reused while that info
is cached.

A tunnel carries the request (page, item, choice), so every request of it plans again from the
cached :class:`~mediadl.models.MediaInfo`: the same answer each time (planning is a pure function
of the info, the choice and the server's settings), computed again for every resumed download,
every range a multi-connection client asks and every tunnel of a popular link. The memo keys a
plan by the *identity* of the info object and the choice: a re-extraction (an expired media link,
a lapsed cache entry) yields a new info object, hence a new plan, and two items, two links or two
choices never share one. An entry holds its info, so the identity can't be reused while it is
kept; at most ``size`` entries are kept (least recently used out). A failed plan is not kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from mediadl.engine import Engine
from mediadl.models import Choice, MediaInfo, Plan
from mediadl.service.delivery import Mode, delivery_mode

__all__ = ["PlanMemo", "Planned"]

MEMO_SIZE = 512


class Planned(NamedTuple):
    plan: Plan
    mode: Mode


class PlanMemo:
    """``memo.plan(info, choice)``: the engine's plan and its delivery mode, from the memo when
    this very info was planned for this choice before."""

    def __init__(self, engine: Engine, *, size: int = MEMO_SIZE) -> None:
        self._engine = engine
        self._size = size
        self._kept: OrderedDict[tuple[int, Choice], tuple[MediaInfo, Planned]] = OrderedDict()

    def plan(self, info: MediaInfo, choice: Choice) -> Planned:
        key = (id(info), choice)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is info:
            self._kept.move_to_end(key)
            return kept[1]
        plan = self._engine.plan(info, choice)
        planned = Planned(plan, delivery_mode(plan))
        self._kept[key] = (info, planned)
        self._kept.move_to_end(key)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return planned

    def __len__(self) -> int:
        return len(self._kept)
