"""A 1 GB progressive stream to a consumer slower than the network keeps memory bounded.

The server makes the bytes up as it goes (a pseudo-random pattern whose period is no multiple of
any piece size, so a misplaced piece can't match), honours ``Range`` and never touches the disk.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from mediadl.engine.fetch import stream_format
from mediadl.models import Format
from mediadl.settings import Settings

SIZE = 1 << 30
PERIOD = (1 << 20) + 7
PATTERN = random.Random(3).randbytes(PERIOD) * 2
WRITE = 256 * 1024
CONSUMER_RATE = 150e6
"""Bytes per second the consumer takes: slower than loopback, so the fetcher must hold back."""
RSS_GROWTH_LIMIT = 96 << 20


def expected(offset: int, length: int) -> bytes:
    out = bytearray()
    while length:
        phase = offset % PERIOD
        take = min(length, PERIOD)
        out += PATTERN[phase : phase + take]
        offset, length = offset + take, length - take
    return bytes(out)


async def synthetic(request: web.Request) -> web.StreamResponse:
    start, end = 0, SIZE - 1
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
    status = 200
    headers = {"Accept-Ranges": "bytes", "ETag": '"synthetic"', "Content-Type": "video/mp4"}
    if match:
        start = int(match[1])
        end = min(int(match[2]), SIZE - 1) if match[2] else SIZE - 1
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{SIZE}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start + 1
    await response.prepare(request)
    pos = start
    while pos <= end:
        size = min(WRITE, end + 1 - pos)
        phase = pos % PERIOD
        await response.write(PATTERN[phase : phase + size])
        pos += size
    return response


@pytest.fixture
async def big_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/big.mp4", synthetic)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.2", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.2:{port}/big.mp4"
    await runner.cleanup()


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_1gb_stream_to_a_slow_consumer_stays_small(big_url: str, tmp_path: Path) -> None:
    settings = Settings(allow_networks=["127.0.0.2/32"], data_dir=tmp_path, fetch_connections=8)
    fmt = Format(id="big", url=big_url, protocol="http", ext="mp4")
    loop = asyncio.get_running_loop()
    baseline, received, samples = rss(), 0, []
    started = loop.time()
    async for chunk in stream_format(fmt, settings):
        for at in range(0, len(chunk), PERIOD):
            piece = chunk[at : at + PERIOD]
            assert piece == expected(received + at, len(piece)), f"wrong bytes at {received + at}"
        received += len(chunk)
        samples.append(rss())  # after every chunk, whether the consumer is ahead or behind
        ahead = received / CONSUMER_RATE - (loop.time() - started)
        if ahead > 0:
            await asyncio.sleep(ahead)
    assert received == SIZE
    assert len(samples) >= SIZE // (4 << 20)  # pieces of a few MiB at most: sampled all along
    peak = max(samples)
    assert peak - baseline < RSS_GROWTH_LIMIT, f"RSS grew by {(peak - baseline) >> 20} MiB"
