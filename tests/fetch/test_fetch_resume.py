"""Resumable fetches: only what isn't on disk is fetched, and the result is the source, byte for
byte — also when the record, the file on the server or the server itself isn't what it was."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine.fetch import FetchItem, fetch_formats
from mediadl.engine.fetch.base import FetchProgress
from mediadl.engine.fetch.output import part_path
from mediadl.engine.fetch.resume import Journal, Ranges
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

MiB = 1 << 20
FormatFor = Callable[..., Format]


def _fetch(fmt: Format, dest: Path, settings: Settings, cancel: CancelToken | None = None) -> None:
    fetch_formats([FetchItem(fmt, dest, resume=True)], settings=settings, cancel=cancel)


def _kept(dest: Path, source: bytes, spans: list[tuple[int, int]], *, total: int) -> None:
    """``dest.part`` holding ``source`` at ``spans`` (zeros elsewhere) and a record of them."""
    data = bytearray(len(source))
    for start, end in spans:
        data[start:end] = source[start:end]
    part = part_path(dest)
    part.write_bytes(bytes(data))
    journal = Journal(part)
    journal.total = total
    for start, end in spans:
        journal.ranges.add(start, end)
    journal.save(force=True)


def test_only_the_missing_ranges_are_fetched(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "out.mp4"
    spans = [(0, 100_000), (MiB, MiB + 600_000), (len(source) - 5000, len(source))]
    _kept(dest, source, spans, total=len(source))
    site.reset_counters()
    _fetch(format_for("progressive"), dest, fast)
    assert dest.read_bytes() == source
    asked = [_range(record.range) for record in site.stats.log]
    assert asked and all(e <= s2 or s >= e2 for s, e in asked for s2, e2 in spans)  # no overlap
    assert list(tmp_path.iterdir()) == [dest]  # no .part, no record


def _range(header: str | None) -> tuple[int, int]:
    """``bytes=A-B`` as ``[A, B + 1)``."""
    assert header is not None and header.startswith("bytes=")
    first, _, last = header.removeprefix("bytes=").partition("-")
    return int(first), int(last) + 1


@pytest.mark.parametrize(
    ("knobs", "total_delta"),
    [({}, 1), ({"norange": 1}, 0)],
    ids=["the file changed size", "the server ignores ranges"],
)
def test_a_source_unlike_the_record_starts_over(
    knobs: dict[str, int],
    total_delta: int,
    site: FixtureSite,
    format_for: FormatFor,
    fast: Settings,
    tmp_path: Path,
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "out.mp4"
    wrong = bytes(len(source))  # what is "kept" isn't the source at all
    part_path(dest).write_bytes(wrong)
    journal = Journal(part_path(dest))
    journal.total = len(source) + total_delta
    journal.ranges.add(0, len(source) // 2)
    journal.save(force=True)
    _fetch(format_for("progressive", **knobs), dest, fast)
    assert dest.read_bytes() == source


def test_a_record_claiming_more_than_the_file_holds_is_ignored(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "out.mp4"
    part_path(dest).write_bytes(source[:1000])
    journal = Journal(part_path(dest))
    journal.total = len(source)
    journal.ranges.add(0, 2 * MiB)  # the file is far shorter: the record can't be right
    journal.save(force=True)
    assert not Journal(part_path(dest)).ranges
    _fetch(format_for("progressive"), dest, fast)
    assert dest.read_bytes() == source


def test_a_cancelled_stream_resumes_after_its_last_whole_segment(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    expected = b"".join(site.mediaset.segment_bytes("hls_plain"))
    segments = len(site.mediaset.segment_bytes("hls_plain"))
    fmt = format_for("hls_plain", rate=400_000)
    # Two connections take the segments a pair at a time, so whole segments reach the disk while
    # later ones are not yet asked for; with as many connections as segments, every segment would
    # arrive at once near the end and the cancel could land after the file was finished.
    two = fast.model_copy(update={"fetch_connections": 2})
    dest = tmp_path / "out.ts"
    cancel = CancelToken()
    halfway = threading.Event()

    def progress(done: int, total: int | None, estimate: bool) -> None:
        # bytes are counted as they arrive; some whole segments must also be on disk by now
        part = part_path(dest)
        if done > len(expected) // 2 and part.exists() and part.stat().st_size > 0:
            halfway.set()
            cancel.cancel()

    with pytest.raises(errors.Cancelled):
        fetch_formats([FetchItem(fmt, dest, progress, resume=True)], settings=two, cancel=cancel)
    assert halfway.is_set() and part_path(dest).exists() and not dest.exists()
    kept = Journal(part_path(dest))
    assert 0 < kept.parts < segments

    site.reset_counters()
    events: list[tuple[int, int | None, bool]] = []
    again = FetchItem(fmt, dest, lambda *event: events.append(event), resume=True)
    fetch_formats([again], settings=two)
    assert dest.read_bytes() == expected
    assert events[0][0] >= kept.bytes > 0  # the bar goes on from what was kept
    assert events[-1][0] == len(expected)
    fetched = sum(n for path, n in site.stats.requests.items() if path.endswith(".ts"))
    assert fetched == segments - kept.parts


def test_an_interrupted_progressive_part_keeps_its_record(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "video.mp4"
    stop = CancelToken()

    def progress(done: int, total: int | None, estimate: bool) -> None:
        if Journal(part_path(dest)).ranges:  # some bytes are recorded: interrupt the run now
            stop.cancel()

    slow = format_for("progressive", total_rate=MiB)  # about 3 s in all
    with pytest.raises(errors.Cancelled):
        _fetch_with(slow, dest, fast, progress, stop)
    assert not dest.exists()
    spans = Journal(part_path(dest)).ranges.spans()
    assert spans  # ranges were recorded …
    data = part_path(dest).read_bytes()
    for start, end in spans:  # … and hold the source's bytes
        assert data[start:end] == source[start:end]


def _fetch_with(
    fmt: Format, dest: Path, settings: Settings, progress: FetchProgress, cancel: CancelToken
) -> None:
    item = FetchItem(fmt, dest, progress, resume=True)
    fetch_formats([item], settings=settings, cancel=cancel)


def test_a_part_whole_but_not_renamed_is_not_fetched_again(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    dest = tmp_path / "video.mp4"  # the run ended between its last write and the rename
    _kept(dest, source, [(0, len(source))], total=len(source))
    site.reset_counters()
    _fetch(format_for("progressive"), dest, fast)
    assert dest.read_bytes() == source
    assert [r for r in site.stats.log if r.path == "/media/progressive.mp4"] == []
    assert list(tmp_path.iterdir()) == [dest]


def test_ranges_merge_and_answer_where_holes_are() -> None:
    ranges = Ranges([(10, 20), (30, 40)])
    ranges.add(20, 30)  # touching on both sides: one range
    assert ranges.spans() == [(10, 40)]
    ranges.add(50, 60)
    ranges.add(0, 5)
    assert ranges.spans() == [(0, 5), (10, 40), (50, 60)]
    assert ranges.covered() == 5 + 30 + 10
    assert ranges.end_of_range_at(12) == 40 and ranges.end_of_range_at(45) == 45
    assert ranges.next_start(5) == 10 and ranges.next_start(50) is None
    ranges.add(3, 55)
    assert ranges.spans() == [(0, 60)]
