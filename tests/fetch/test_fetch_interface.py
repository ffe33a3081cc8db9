"""The fetcher picks itself or yt-dlp by protocol, hands on what it can't do, reports progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mediadl.engine.fetch import (
    FetchProgress,
    NativeFetcher,
    YtdlpFetcher,
    fetch_format,
    fetcher_for,
    stream_format,
)
from mediadl.engine.fetch.output import PROGRESS_INTERVAL, Tally
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]


class Recorder:
    """A fallback fetcher that only notes what it was asked."""

    def __init__(self) -> None:
        self.asked: list[Format] = []

    def fetch(
        self,
        fmt: Format,
        dest: Path,
        *,
        progress: FetchProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.asked.append(fmt)
        dest.write_bytes(b"from the fallback")


def test_protocols_pick_their_fetcher(fast: Settings) -> None:
    def fmt(protocol: str, **raw: object) -> Format:
        return Format(id="x", url="https://h/x", protocol=protocol, ext="mp4", raw=raw)

    for protocol in ("http", "https", "m3u8_native", "http_dash_segments"):
        assert isinstance(fetcher_for(fmt(protocol), fast), NativeFetcher)
    for protocol in ("m3u8", "f4m", "ism", "rtmp", "websocket_frag", "mhtml"):
        assert isinstance(fetcher_for(fmt(protocol), fast), YtdlpFetcher)
    assert isinstance(fetcher_for(fmt("m3u8_native", is_live=True), fast), YtdlpFetcher)


def test_a_master_playlist_is_handed_to_yt_dlp(
    format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    recorder = Recorder()
    master = format_for("hls_master")
    NativeFetcher(fast, fallback=recorder).fetch(master, tmp_path / "out.ts")
    assert recorder.asked == [master]
    assert (tmp_path / "out.ts").read_bytes() == b"from the fallback"


def test_yt_dlp_takes_other_protocols_behind_the_same_interface(
    site: FixtureSite, fast: Settings, tmp_path: Path
) -> None:
    fmt = Format(id="ff", url=site.url("hls_plain"), protocol="m3u8", ext="mp4")
    dest = tmp_path / "out.mp4"
    fetch_format(fmt, dest, settings=fast)
    assert dest.stat().st_size > 10_000
    # nothing beside the file (``data`` is the settings' data directory, made on first use)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["out.mp4"]


async def test_stream_format_falls_back_too(site: FixtureSite, fast: Settings) -> None:
    fmt = Format(id="ff", url=site.url("hls_plain"), protocol="m3u8", ext="mp4")
    data = b"".join([chunk async for chunk in stream_format(fmt, fast, start=100)])
    assert len(data) > 10_000


def test_progress_rises_and_ends_at_the_total(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    events: list[tuple[int, int | None, bool]] = []
    fetch_format(
        format_for("progressive", rate=2_000_000),
        tmp_path / "out.mp4",
        settings=fast,
        progress=lambda *event: events.append(event),
    )
    size = site.media["progressive"].stat().st_size
    assert events[-1] == (size, size, False)
    assert [e[0] for e in events] == sorted(e[0] for e in events)


def test_progress_reports_once_per_interval_and_always_the_last() -> None:
    now = [0.0]
    events: list[tuple[int, int | None, bool]] = []
    tally = Tally(lambda *event: events.append(event), max_bytes=None, clock=lambda: now[0])
    tally.expect(1000)
    for _ in range(10):  # ten pieces within one interval: one report
        tally.add(10)
    now[0] += PROGRESS_INTERVAL
    tally.add(10)  # an interval later: the next one
    tally.report()  # the last, whatever the interval
    assert events == [(10, 1000, False), (110, 1000, False), (110, 1000, False)]


def test_segment_progress_estimates_the_total(
    format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    events: list[tuple[int, int | None, bool]] = []
    fetch_format(
        format_for("hls_plain", rate=500_000),
        tmp_path / "out.ts",
        settings=fast,
        progress=lambda *event: events.append(event),
    )
    assert any(total is not None and estimate for _, total, estimate in events)
    done, total, _ = events[-1]
    assert total is not None and done == (tmp_path / "out.ts").stat().st_size <= total
