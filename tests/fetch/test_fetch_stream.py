"""The async face: in-order bytes from any offset, as they arrive; cancel and early stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mediadl import errors
from mediadl.engine.fetch import stream_format
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]


async def read_all(fmt: Format, settings: Settings, **options: object) -> bytes:
    return b"".join([chunk async for chunk in stream_format(fmt, settings, **options)])


@pytest.mark.parametrize("start", [0, 1, 1_000_003])
@pytest.mark.parametrize("knobs", [{}, {"norange": 1}, {"drop": 100_000, "dropfirst": 3}])
async def test_progressive_from_any_offset(
    start: int, knobs: dict[str, object], site: FixtureSite, format_for: FormatFor, fast: Settings
) -> None:
    data = await read_all(format_for("progressive", **knobs), fast, start=start)
    assert data == site.media["progressive"].read_bytes()[start:]


async def test_segments_stream_in_order_from_an_offset(
    site: FixtureSite, format_for: FormatFor, fast: Settings
) -> None:
    whole = b"".join(site.mediaset.segment_bytes("hls_plain"))
    assert await read_all(format_for("hls_aes", drop=30_000), fast) == whole
    assert await read_all(format_for("hls_plain"), fast, start=12_345) == whole[12_345:]


async def test_the_first_bytes_come_before_the_last_piece(
    format_for: FormatFor, fast: Settings, site: FixtureSite
) -> None:
    # 8 connections at 100 kB/s need 3+ s for the 3 MB file: the first bytes come long before.
    site.reset_counters()
    stream = stream_format(format_for("progressive", rate=100_000), fast)
    first = await anext(stream)
    sent = site.stats.bytes_sent
    await stream.aclose()
    assert first and sent < site.media["progressive"].stat().st_size // 2


async def test_cancel_ends_the_stream(
    format_for: FormatFor, fast: Settings, site: FixtureSite
) -> None:
    cancel = CancelToken()
    site.reset_counters()
    stream = stream_format(format_for("progressive", rate=200_000), fast, cancel=cancel)
    await anext(stream)
    cancel.cancel()
    with pytest.raises(errors.Cancelled):
        async for _ in stream:
            pass
    assert site.stats.bytes_sent < site.media["progressive"].stat().st_size // 2


async def test_a_consumer_that_stops_early_leaves_nothing_running(
    format_for: FormatFor, fast: Settings
) -> None:
    before = len(asyncio.all_tasks())
    stream = stream_format(format_for("hls_plain", rate=500_000), fast)
    await anext(stream)
    await stream.aclose()
    await asyncio.sleep(0.05)
    assert len(asyncio.all_tasks()) == before


async def test_errors_surface_from_the_iteration(format_for: FormatFor, fast: Settings) -> None:
    with pytest.raises(errors.FetchFailed) as caught:
        await read_all(format_for("hls_plain", missing="seg_001.ts"), fast)
    assert caught.value.context["fragment"] == "2"
