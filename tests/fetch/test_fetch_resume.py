"""A resumable part: what an interrupted run journaled is kept, only the rest is fetched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mediadl import errors
from mediadl.engine.fetch import FetchItem, NativeFetcher
from mediadl.engine.fetch.output import journal_path, part_path, segments_path, written_spans
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings
from mediadl_fixtures.resources import RequestRecord
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]
MiB = 1 << 20


def test_journaled_ranges_are_not_fetched_again(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "video.mp4"
    kept = [(0, MiB), (2 * MiB, len(source))]
    with part_path(dest).open("wb") as part:  # an interrupted run: two ranges done, a hole
        part.write(b"\0" * len(source))
        for start, end in kept:
            part.seek(start)
            part.write(source[start:end])
    journal_path(dest).write_text("".join(f"{a} {b}\n" for a, b in kept))

    NativeFetcher(fast).fetch_many([FetchItem(format_for("progressive"), dest, resume=True)])

    assert dest.read_bytes() == source
    assert not part_path(dest).exists()
    assert not journal_path(dest).exists()
    asked = [r.range for r in site.stats.log if r.path == "/media/progressive.mp4"]
    assert asked  # the hole, perhaps in several requests, and nothing else
    for spec in asked:
        first, _, last = (spec or "").removeprefix("bytes=").partition("-")
        assert MiB <= int(first) <= int(last) < 2 * MiB, spec


def test_an_interrupted_resumable_part_keeps_its_journal(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "video.mp4"
    stop = CancelToken()

    def progress(done: int, total: int | None, estimate: bool) -> None:
        if written_spans(dest):  # a piece is whole: interrupt the run now
            stop.cancel()

    slow = format_for("progressive", total_rate=MiB)  # about 3 s in all
    with pytest.raises(errors.Cancelled):
        NativeFetcher(fast).fetch_many([FetchItem(slow, dest, progress, resume=True)], cancel=stop)
    assert not dest.exists()
    spans = written_spans(dest)
    assert spans  # whole pieces were journaled …
    data = part_path(dest).read_bytes()
    for start, end in spans:  # … and hold the source's bytes
        assert data[start:end] == source[start:end]


def test_a_segmented_stream_goes_on_after_its_whole_parts(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    whole = tmp_path / "whole.ts"
    NativeFetcher(fast).fetch_many([FetchItem(format_for("hls_plain"), whole)])
    reference = whole.read_bytes()
    segments = sorted((r for r in site.stats.log if "seg_" in r.path), key=lambda r: r.path)
    assert len(segments) > 3
    dest = tmp_path / "resumed.ts"  # an earlier run wrote two segments and part of a third
    first_two = _segment_bytes(site, segments[:2])
    part_path(dest).write_bytes(first_two + b"half a segment")
    segments_path(dest).write_text(f"1 {len(first_two) // 2}\n2 {len(first_two)}\n")
    site.reset_counters()

    NativeFetcher(fast).fetch_many([FetchItem(format_for("hls_plain"), dest, resume=True)])

    assert dest.read_bytes() == reference
    fetched = sorted(r.path for r in site.stats.log if "seg_" in r.path)
    assert fetched == sorted(r.path for r in segments[2:])
    assert not segments_path(dest).exists()


def _segment_bytes(site: FixtureSite, records: list[RequestRecord]) -> bytes:
    return b"".join(httpx.get(f"{site.base_url}{r.path}").content for r in records)


def test_a_part_whole_but_not_renamed_is_not_fetched_again(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "video.mp4"  # the run ended between its last write and the rename
    part_path(dest).write_bytes(source)
    journal_path(dest).write_text(f"= {len(source)}\n0 {MiB}\n{MiB} {len(source)}\n")

    NativeFetcher(fast).fetch_many([FetchItem(format_for("progressive"), dest, resume=True)])

    assert dest.read_bytes() == source
    assert [r for r in site.stats.log if r.path == "/media/progressive.mp4"] == []
