"""A small file is one request, read to its end; a file worth more connections still gets them.

The fixture site's log says what was asked: one open-ended ``Range`` for a small file, whole
(to a file, as ``mediadl get`` writes, and as a stream, as a tunnel reads), also when the server
ignores ranges, answers less than asked or part of the file is on disk already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from mediadl.engine.fetch import FetchItem, fetch_formats, progressive, stream_format
from mediadl.engine.fetch.output import part_path
from mediadl.engine.fetch.resume import Journal
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

MiB = 1 << 20
PATH = "/media/progressive.mp4"
FormatFor = Callable[..., Format]


def asked(site: FixtureSite) -> list[str | None]:
    """The ``Range`` of every request for the file, in order."""
    return [record.range for record in site.stats.log if record.path == PATH]


def covered(ranges: list[str | None], size: int) -> list[tuple[int, int]]:
    """``bytes=A-B`` / ``bytes=A-`` as sorted ``[A, B + 1)``."""
    spans = []
    for header in ranges:
        assert header is not None and header.startswith("bytes=")
        first, _, last = header.removeprefix("bytes=").partition("-")
        spans.append((int(first), int(last) + 1 if last else size))
    return sorted(spans)


async def read_stream(fmt: Format, settings: Settings, start: int = 0) -> bytes:
    return b"".join([chunk async for chunk in stream_format(fmt, settings, start=start)])


@pytest.fixture
def source(site: FixtureSite) -> bytes:
    data = site.media["progressive"].read_bytes()
    assert len(data) > progressive.FIRST_PIECE  # two requests before: a first piece, the rest
    return data


def test_a_small_file_to_disk_is_one_request(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    site.reset_counters()
    fetch_formats([FetchItem(format_for("progressive"), tmp_path / "out.mp4")], settings=fast)
    assert (tmp_path / "out.mp4").read_bytes() == source
    assert asked(site) == ["bytes=0-"]
    assert site.stats.statuses[206] == 1


@pytest.mark.parametrize("start", [0, 1_000_003])
async def test_a_small_file_streamed_is_one_request(
    start: int, site: FixtureSite, format_for: FormatFor, fast: Settings, source: bytes
) -> None:
    site.reset_counters()
    assert await read_stream(format_for("progressive"), fast, start) == source[start:]
    assert asked(site) == [f"bytes={start}-"]


async def test_a_slow_reader_is_no_reason_for_a_second_connection(
    site: FixtureSite, format_for: FormatFor, fast: Settings, source: bytes
) -> None:
    """The reader takes a second or more over the file; the site would send it in a moment: the
    time the stream waits for its reader isn't the site's, and a second request would only pile
    bytes up ahead of the reader."""
    site.reset_counters()
    received = bytearray()
    async for chunk in stream_format(format_for("progressive"), fast):
        received += chunk
        await asyncio.sleep(0.1)
    assert received == source
    assert asked(site) == ["bytes=0-"]


def test_a_server_that_ignores_ranges_is_read_in_one_response(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    site.reset_counters()
    fmt = format_for("progressive", norange=1)
    fetch_formats([FetchItem(fmt, tmp_path / "out.mp4")], settings=fast)
    assert (tmp_path / "out.mp4").read_bytes() == source
    assert asyncio.run(read_stream(fmt, fast, 12_345)) == source[12_345:]
    assert len(asked(site)) == 2  # one for the file, one for the stream
    assert site.stats.statuses == {200: 2}


def test_a_server_that_answers_less_than_asked_is_read_in_its_pieces(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    """A site that caps its answers: the first is read to its own end, not cut, and not retried
    as if it had broken off; the rest comes in pieces."""
    site.reset_counters()
    fmt = format_for("progressive", maxrange=700_000)
    fetch_formats([FetchItem(fmt, tmp_path / "out.mp4")], settings=fast)
    assert (tmp_path / "out.mp4").read_bytes() == source
    spans = covered(asked(site), len(source))
    assert spans[0] == (0, len(source))  # the first asked for everything
    assert len(spans) >= len(source) // 700_000
    assert site.stats.connections_opened < len(spans)  # answers read to their end: kept alive


def test_a_partly_downloaded_small_file_resumes_in_one_request(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    dest = tmp_path / "out.mp4"
    kept = MiB + 12_345
    part = part_path(dest)
    part.write_bytes(source[:kept] + bytes(len(source) - kept))
    journal = Journal(part)
    journal.total = len(source)
    journal.ranges.add(0, kept)
    journal.save(force=True)
    site.reset_counters()
    fetch_formats([FetchItem(format_for("progressive"), dest, resume=True)], settings=fast)
    assert dest.read_bytes() == source
    assert asked(site) == [f"bytes={kept}-"]


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections taken to be slow before one is measured: the 3 MB file is then worth
    several (at 1 MiB/s, ~0.55 s of it is enough)."""
    monkeypatch.setattr(progressive, "ASSUMED_RATE", MiB)


# 8 MB/s a connection: the second request is answered long before the first reaches its end
# (when it isn't, the first reads on and the second is given up: see the CDN test below)
CAPPED = {"rate": 8_000_000}


@pytest.mark.usefixtures("small_threshold")
def test_a_file_worth_more_connections_gets_them(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    site.reset_counters()
    fmt = format_for("progressive", **CAPPED)
    fetch_formats([FetchItem(fmt, tmp_path / "out.mp4")], settings=fast)
    assert (tmp_path / "out.mp4").read_bytes() == source
    spans = covered(asked(site), len(source))
    assert spans[0] == (0, len(source))  # open-ended, then cut at the first piece
    assert len(spans) >= 2
    assert site.stats.connections_opened >= 2  # the first one, given up at its boundary
    # its place comes back only once the site could see it closed: never one too many there
    assert site.stats.peak_connections <= fast.fetch_connections
    site.reset_counters()
    assert asyncio.run(read_stream(fmt, fast)) == source
    assert len(asked(site)) >= 2


def test_a_small_file_from_a_slow_site_still_gets_a_second_connection(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    """1 MB/s a connection: one would need 3 s; once the first one's rate is measured, a second
    request takes half of what is left."""
    site.reset_counters()
    fmt = format_for("progressive", rate=1_000_000)
    fetch_formats([FetchItem(fmt, tmp_path / "out.mp4")], settings=fast)
    assert (tmp_path / "out.mp4").read_bytes() == source
    ranges = asked(site)
    assert ranges[0] == "bytes=0-" and len(ranges) >= 2


def test_under_the_persons_own_speed_cap_a_small_file_stays_one_request(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path, source: bytes
) -> None:
    """The same slow pace, but set by ``fetch_rate_limit``, not the site: a second connection
    would share the same cap, so the file stays one request."""
    site.reset_counters()
    capped = fast.model_copy(update={"fetch_rate_limit": 1_000_000})
    fetch_formats([FetchItem(format_for("progressive"), tmp_path / "out.mp4")], settings=capped)
    assert (tmp_path / "out.mp4").read_bytes() == source
    assert asked(site) == ["bytes=0-"]


@pytest.mark.parametrize("run", range(8))
def test_a_stalled_first_try_then_a_second_connection_still_finishes(
    run: int,
    site: FixtureSite,
    format_for: FormatFor,
    fast: Settings,
    tmp_path: Path,
    source: bytes,
) -> None:
    """The first try stops after 200 kB until the read gives up; the site's measured rate then
    makes a second connection worth it, and a piece it is given can be handed back before its
    request even started: the download still ends, whole (it once waited forever then)."""
    fmt = format_for("progressive", stall=200_000, stallfirst=1, stallsecs=5 + run / 100)
    patient = fast.model_copy(update={"read_timeout": 1.0, "fetch_connections": 16})
    fetch_formats([FetchItem(fmt, tmp_path / "out.mp4")], settings=patient)
    assert (tmp_path / "out.mp4").read_bytes() == source
