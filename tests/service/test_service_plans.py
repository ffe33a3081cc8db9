"""The tunnels' plan memo: one plan per (info object, choice), never shared across either."""

from __future__ import annotations

import dataclasses

import pytest
from tests.test_planner import ADAPTIVE, fmt, media

from mediadl import errors
from mediadl.engine import Engine
from mediadl.models import Choice, MediaInfo, Plan
from mediadl.service.plans import PlanMemo
from mediadl.settings import Settings


class CountingEngine(Engine):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.planned: list[tuple[MediaInfo, Choice]] = []

    def plan(self, info: MediaInfo, choice: Choice) -> Plan:
        self.planned.append((info, choice))
        return super().plan(info, choice)


@pytest.fixture
def engine(settings: Settings) -> CountingEngine:
    return CountingEngine(settings)


def test_a_plan_is_made_once_per_info_and_choice(engine: CountingEngine) -> None:
    memo = PlanMemo(engine)
    first = memo.plan(ADAPTIVE, Choice(quality=720))
    again = memo.plan(ADAPTIVE, Choice(quality=720))
    assert again.plan is first.plan
    assert len(engine.planned) == 1
    assert first.plan == engine.plan(ADAPTIVE, Choice(quality=720))
    assert [f.id for f in first.plan.formats] == ["v720", "aac"]
    assert first.mode == "remux"


def test_choices_never_share_a_plan(engine: CountingEngine) -> None:
    memo = PlanMemo(engine)
    high = memo.plan(ADAPTIVE, Choice(quality=1080))
    low = memo.plan(ADAPTIVE, Choice(quality=360))
    sound = memo.plan(ADAPTIVE, Choice(audio="mp3"))
    assert high.plan.formats[0].id == "v1080"
    assert low.plan.formats[0].id == "v360"
    assert sound.plan.video is None and sound.mode == "transcode"
    assert len(engine.planned) == 3


def test_another_info_is_planned_again_even_when_equal(engine: CountingEngine) -> None:
    """A re-extraction (fresh media links) or another item is another object: a new plan, made
    from that object's own formats."""
    memo = PlanMemo(engine)
    choice = Choice()
    old = memo.plan(ADAPTIVE, choice)
    fresh = dataclasses.replace(
        ADAPTIVE,
        formats=tuple(dataclasses.replace(f, url=f.url + "?fresh") for f in ADAPTIVE.formats),
    )
    renewed = memo.plan(fresh, choice)
    assert len(engine.planned) == 2
    assert renewed.plan.info is fresh
    assert all(f.url.endswith("?fresh") for f in renewed.plan.formats)
    assert not any(f.url.endswith("?fresh") for f in old.plan.formats)
    other_item = media(fmt("solo", v="avc1.4d401e", a="mp4a.40.2", h=480), title="Other")
    assert memo.plan(other_item, choice).plan.formats[0].id == "solo"
    assert memo.plan(other_item, choice).plan.info is other_item
    assert len(engine.planned) == 3


def test_a_failed_plan_is_not_kept(engine: CountingEngine) -> None:
    memo = PlanMemo(engine)
    silent = media(fmt("v", v="avc1.4d401e", h=360))
    for _ in range(2):
        with pytest.raises(errors.MediadlError):
            memo.plan(silent, Choice(audio="mp3"))
    assert len(engine.planned) == 2
    assert len(memo) == 0


def test_the_memo_is_bounded_least_recent_out(engine: CountingEngine) -> None:
    memo = PlanMemo(engine, size=2)
    a, b, c = Choice(quality=360), Choice(quality=720), Choice(quality=1080)
    memo.plan(ADAPTIVE, a)
    memo.plan(ADAPTIVE, b)
    memo.plan(ADAPTIVE, a)  # a is now the most recent
    memo.plan(ADAPTIVE, c)  # b goes
    assert len(memo) == 2
    memo.plan(ADAPTIVE, a)
    assert len(engine.planned) == 3
    memo.plan(ADAPTIVE, b)
    assert len(engine.planned) == 4
