"""Fewer connections when the server pushes back, for the whole process, and more again later.

A CDN that allows a client N connections answers 429 past them; after its first 429 the site must
see at most about N at once, and the file must come out whole. The host's gate (process-wide)
halves on pushback once per burst, gives places back one per round of good answers after a hold,
and forgets it all after a quiet minute.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mediadl.engine.fetch import FetchItem, fetch_formats
from mediadl.engine.fetch.hostgate import BURST, FORGET, HOLD, HostGate
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures import running_site
from mediadl_fixtures.server import FixtureSite

ALLOWED = 3


def _fetch_from_cdn(
    site: FixtureSite, names: list[str], fast: Settings, tmp_path: Path
) -> FixtureSite:
    """Download ``names`` one after the other from one CDN, in this process."""
    # a site of its own: no connection of another test is still counted against this client
    with running_site(site.host, media=site.mediaset) as cdn:
        knobs = {"latency": 10, "rate": 1_000_000, "connlimit": ALLOWED, "connretry": 0.2}
        settings = fast.model_copy(update={"fetch_connections": 16, "host_connections": 16})
        for name in names:
            protocol = "m3u8_native" if name.startswith("hls") else "https"
            fmt = Format(id=name, url=cdn.url(name, **knobs), protocol=protocol, ext="mp4")
            fetch_formats([FetchItem(fmt, tmp_path / name)], settings=settings)
        return cdn


def test_after_the_first_429_downloads_from_that_host_keep_within_the_allowance(
    site: FixtureSite, fast: Settings, tmp_path: Path
) -> None:
    """The process remembers the pushback: the next download from the host doesn't probe past
    the allowance again."""
    cdn = _fetch_from_cdn(site, ["progressive", "hls_plain"], fast, tmp_path)
    assert (tmp_path / "progressive").read_bytes() == site.media["progressive"].read_bytes()
    segments = b"".join(site.mediaset.segment_bytes("hls_plain"))
    assert (tmp_path / "hls_plain").read_bytes() == segments
    assert cdn.stats.statuses[429] > 0  # the first download did try more than the CDN allows...
    assert cdn.stats.peak_connections > ALLOWED
    after = cdn.stats.peak_after_429  # ...and from then on both kept within what it allows
    assert after is not None and after <= ALLOWED


def test_after_the_first_429_a_segmented_download_keeps_within_the_allowance(
    site: FixtureSite, fast: Settings, tmp_path: Path
) -> None:
    cdn = _fetch_from_cdn(site, ["hls_plain"], fast, tmp_path)
    segments = b"".join(site.mediaset.segment_bytes("hls_plain"))
    assert (tmp_path / "hls_plain").read_bytes() == segments
    assert cdn.stats.statuses[429] > 0
    after = cdn.stats.peak_after_429
    assert after is not None and after <= ALLOWED + 1


def test_pieces_split_between_connections_survive_cuts_mid_piece(
    site: FixtureSite, fast: Settings, tmp_path: Path
) -> None:
    """Slow connections, so idle ones split the largest piece left; every response is cut short
    (and resumed) while pieces move between requests."""
    url = site.url("progressive", rate=1_500_000, latency=5, drop=300_000)
    fmt = Format(id="p", url=url, protocol="https", ext="mp4")
    site.reset_counters()
    fetch_formats([FetchItem(fmt, tmp_path / "p.mp4")], settings=fast)
    assert (tmp_path / "p.mp4").read_bytes() == site.media["progressive"].read_bytes()
    ranges = [r.range for r in site.stats.log if r.path == "/media/progressive.mp4"]
    assert len(ranges) > fast.fetch_connections  # cut and resumed, not one request each


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _gate_with(open_places: int, clock: Clock) -> HostGate:
    gate = HostGate(16, clock=clock)
    gate.open = open_places
    return gate


def test_pushback_halves_the_places_open_once_per_burst() -> None:
    clock = Clock()
    gate = _gate_with(12, clock)
    gate.pushed_back()
    assert gate.limit == 6
    assert gate.wanted  # more open than the host now gets: connections close when done
    clock.now += BURST / 2
    gate.pushed_back()  # the same burst: sent at the old level
    assert gate.limit == 6
    clock.now += BURST
    gate.pushed_back()
    assert gate.limit == 3


def test_places_come_back_one_per_round_of_good_answers_after_a_hold() -> None:
    clock = Clock()
    gate = _gate_with(8, clock)
    gate.pushed_back()
    assert gate.limit == 4
    for _ in range(10):
        gate.answered()
    assert gate.limit == 4  # held
    clock.now += HOLD
    for _ in range(4):
        gate.answered()
    assert gate.limit == 5
    for _ in range(5):
        gate.answered()
    assert gate.limit == 6


def test_a_quiet_minute_gives_every_place_back() -> None:
    clock = Clock()
    gate = _gate_with(16, clock)
    gate.pushed_back()
    gate.open = 0
    clock.now += FORGET
    asyncio.run(gate.enter())
    assert gate.limit == 16


@pytest.mark.parametrize("open_places", [0, 1])
def test_pushback_leaves_at_least_one_place(open_places: int) -> None:
    gate = _gate_with(open_places, Clock())
    gate.pushed_back()
    assert gate.limit == 1
