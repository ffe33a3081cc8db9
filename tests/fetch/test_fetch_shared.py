"""All formats of one download share one connection pool, one concurrency level, one fate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine.fetch import FetchItem, NativeFetcher, fetch_formats
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]


def test_video_and_audio_come_out_whole_over_one_pool(
    site: FixtureSite,
    format_for: FormatFor,
    dash_bytes: Callable[[Format], bytes],
    fast: Settings,
    tmp_path: Path,
) -> None:
    video, audio = format_for("dash:video", latency=20), format_for("dash:audio", latency=20)
    settings = fast.model_copy(update={"fetch_connections": 3})
    site.reset_counters()
    fetch_formats(
        [FetchItem(video, tmp_path / "v.mp4"), FetchItem(audio, tmp_path / "a.m4a")],
        settings=settings,
    )
    assert (tmp_path / "v.mp4").read_bytes() == dash_bytes(format_for("dash:video"))
    assert (tmp_path / "a.m4a").read_bytes() == dash_bytes(format_for("dash:audio"))
    # two separate pools would have opened up to 3 each
    assert site.stats.peak_connections <= 3


def test_a_progressive_file_and_a_playlist_together(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    items = [
        FetchItem(format_for("progressive"), tmp_path / "p.mp4"),
        FetchItem(format_for("hls_plain"), tmp_path / "h.ts"),
    ]
    fetch_formats(items, settings=fast)
    source = site.mediaset.file("/media/progressive.mp4").read_bytes()
    assert (tmp_path / "p.mp4").read_bytes() == source
    assert (tmp_path / "h.ts").stat().st_size > 0


def test_one_failure_stops_the_other_and_leaves_nothing(
    format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    slow = format_for("progressive", rate=500_000)
    broken = format_for("hls_plain", missing="seg_003.ts")
    with pytest.raises(errors.FetchError) as failed:
        fetch_formats(
            [FetchItem(slow, tmp_path / "p.mp4"), FetchItem(broken, tmp_path / "h.ts")],
            settings=fast,
        )
    assert failed.value.code.startswith("fetch.")
    assert list(tmp_path.iterdir()) == []


def test_what_the_native_fetcher_hands_on_still_runs_beside_it(
    format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    class Fallback:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def fetch(self, fmt: Format, dest: Path, **_: object) -> None:
            self.asked.append(fmt.id)
            dest.write_bytes(b"fallback")

    fallback = Fallback()
    master = format_for("hls_master")  # a master playlist: not for the native fetcher
    items = [
        FetchItem(master, tmp_path / "m.ts"),
        FetchItem(format_for("audio_m4a"), tmp_path / "a.m4a"),
    ]
    NativeFetcher(fast, fallback=fallback).fetch_many(items)
    assert fallback.asked == [master.id]
    assert (tmp_path / "m.ts").read_bytes() == b"fallback"
    assert (tmp_path / "a.m4a").stat().st_size > 0
