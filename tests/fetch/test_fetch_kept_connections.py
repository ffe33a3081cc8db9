"""Kept-alive connections that went bad while idle in a pool are never a request's failure.

Two ways a connection kept for reuse goes bad, each driven here by a real local server:

* The site closed it while it sat idle, and the next request crossed the site's FIN: the request
  is written, the answer is the connection's end. The GET is tried again on a new connection, as
  browsers do (aiohttp tries once more on its own, on whatever the pool gives next: here another
  connection the site closed too).
* aiohttp (3.14) armed its read timer on it after its response was over: a reader that drains
  a body whose end was still held back by flow control resumes reading, and that resume both
  parses the end (the connection goes back to the pool) and re-arms ``sock_read``. The timer
  then fires on the idle connection and leaves its error there, and the next request on it
  failed at once with ``fetch.timeout`` (aio-libs/aiohttp#12953, whose fix misses this case).
  A kept connection that holds an error is dropped instead of used.

Both requests below are single tries (``read_small``, as the HLS master and thumbnails are
read), so any failure would be the user's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mediadl.engine.fetch import SharedPool
from mediadl.engine.fetch.client import HttpClient
from mediadl.settings import Settings

HOST = "127.0.0.2"
SMALL = b"the playlist\n" * 100
HELD = 500_000
"""Body bytes sent first: under the high-water mark of a reader (2 x 256 KiB), so they are all
read from the socket while nobody drains them."""
LAST = 100_000
"""Body bytes sent last, with the end of the body, in one write: they cross the mark, so
reading pauses with the body's end still in the parser."""


@dataclass
class Site:
    """A keep-alive HTTP/1.1 server whose misbehaviour the test switches on."""

    port: int = 0
    drop_kept: bool = False
    """Close a kept connection when its next request comes, without answering."""
    send_last: asyncio.Event = field(default_factory=asyncio.Event)
    pair: asyncio.Barrier = field(default_factory=lambda: asyncio.Barrier(2))
    """``/pair`` requests are answered two at a time: two connections, both kept after."""
    connections: int = 0
    answered: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while (path := await _request_path(reader)) is not None:
                if served and self.drop_kept:
                    return  # closed as the request arrived: the client reads an end, no answer
                served += 1
                await self._answer(path, writer)
                self.answered += 1
        finally:
            writer.close()

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> None:
        if path == "/pair":
            await self.pair.wait()
        if path != "/held":
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(SMALL)}\r\n\r\n"
            writer.write(head.encode() + SMALL)
            await writer.drain()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(_chunk(b"a" * HELD))
        await writer.drain()
        await self.send_last.wait()
        writer.write(_chunk(b"b" * LAST) + b"0\r\n\r\n")  # one write: one read on the client
        await writer.drain()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _request_path(reader: asyncio.StreamReader) -> str | None:
    line = await reader.readline()
    if not line:
        return None
    while (header := await reader.readline()) not in (b"\r\n", b""):
        del header
    return line.split()[1].decode()


@pytest.fixture
async def local() -> AsyncIterator[Site]:
    site = Site()
    server = await asyncio.start_server(site.serve, HOST, 0)
    site.port = server.sockets[0].getsockname()[1]
    try:
        yield site
    finally:
        server.close()


def pooled_settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        allow_networks=[f"{HOST}/32"],
        data_dir=tmp_path / "data",
        read_timeout=0.2,
        connect_timeout=2.0,
        **changes,  # type: ignore[arg-type]
    )


async def test_a_connection_the_site_closed_while_kept_is_tried_again_on_a_new_one(
    local: Site, tmp_path: Path
) -> None:
    settings = pooled_settings(tmp_path)
    pool = SharedPool(settings)
    try:
        async with HttpClient(settings, shared_host_cap=False, pool=pool) as client:
            pair = [client.read_small(f"{local.url}/pair", {}, limit=1 << 20) for _ in range(2)]
            assert await asyncio.gather(*pair) == [SMALL, SMALL]
            assert local.connections == 2  # both kept in the pool now
            local.drop_kept = True  # the site dropped every idle connection it had

            body = await client.read_small(f"{local.url}/c", {}, limit=1 << 20)
    finally:
        await pool.aclose()
    assert body == SMALL
    assert local.connections == 3  # the answer came on a new connection


async def test_a_connection_whose_read_timer_fired_while_kept_is_not_reused(
    local: Site, tmp_path: Path
) -> None:
    settings = pooled_settings(tmp_path)
    pool = SharedPool(settings)
    try:
        async with HttpClient(settings, shared_host_cap=False, pool=pool) as client:
            async with client.get(f"{local.url}/held", {}) as reply:
                content = reply.response.content
                while content.total_bytes < HELD:  # all of it read from the socket, none drained
                    await asyncio.sleep(0.01)
                local.send_last.set()
                while content.total_bytes <= HELD:  # the last write arrived: reading paused
                    await asyncio.sleep(0.01)
                body = b"".join([c async for c in reply.chunks()])
            assert body == b"a" * HELD + b"b" * LAST
            # Longer than read_timeout on this loop: a timer armed before this sleep has run
            # by the time it ends (the loop runs timers in deadline order).
            await asyncio.sleep(settings.read_timeout * 3)

            again = await client.read_small(f"{local.url}/small", {}, limit=1 << 20)
    finally:
        await pool.aclose()
    assert again == SMALL
    assert local.answered == 2
