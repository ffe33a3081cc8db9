"""``produce``: a job's file made in a folder the caller keeps, resumed from what a stopped run
left there, and never made again (nor rewritten) once it is there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine import Engine
from mediadl.engine.download import produce
from mediadl.engine.probe import probe
from mediadl.models import CancelToken, Choice, Progress, Stage
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite


def _segments(site: FixtureSite) -> int:
    return sum(n for path, n in site.stats.requests.items() if path.endswith(".ts"))


def test_a_stopped_run_goes_on_and_a_published_file_is_left_alone(
    site: FixtureSite, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    plan = engine.plan(engine.resolve(site.url("hls", total_rate=300_000)), Choice(quality=360))
    assert plan.needs_ffmpeg
    whole = produce(plan, tmp_path / "whole", settings=settings)
    every = _segments(site)
    assert every > 3

    work, stop = tmp_path / "job", CancelToken()

    def halfway(p: Progress) -> None:
        if p.stage is Stage.FETCH and p.downloaded > whole.stat().st_size // 2:
            stop.cancel()

    with pytest.raises(errors.Cancelled):
        produce(plan, work, settings=settings, progress=halfway, cancel=stop)
    site.reset_counters()
    made = produce(plan, work, settings=settings)
    assert 0 < _segments(site) < every  # only the segments the stopped run hadn't finished
    result, reference = probe(made), probe(whole)
    assert result.video is not None and result.video.height == 360
    assert abs((result.duration or 0) - (reference.duration or 0)) < 0.1

    published = tmp_path / "published.mp4"  # how a job publishes: a hard link
    os.link(made, published)
    before = published.stat()
    site.reset_counters()
    again = produce(plan, work, settings=settings)  # the run after a crash before "saved"
    assert again.samefile(published)
    assert _segments(site) == 0
    after = published.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
