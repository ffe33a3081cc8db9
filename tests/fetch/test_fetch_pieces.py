"""A body is handed on in the pieces the connection brought, each as it came (no copy), small
pieces joined; every byte once, in order, whatever the framing.

The first tests feed aiohttp's own stream reader by hand, as its parser does, so what is buffered
when a piece is read is known exactly; the last ones read real bodies from a local server
(bytes that arrive while the reader waits, a sized body and one in 1 KB chunks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.base_protocol import BaseProtocol

from mediadl.engine.fetch.client import HttpClient
from mediadl.engine.fetch.pieces import SMALL_PIECE, read_piece
from mediadl.settings import Settings

HOST = "127.0.0.2"


def reader() -> aiohttp.StreamReader:
    loop = asyncio.get_running_loop()
    return aiohttp.StreamReader(BaseProtocol(loop), 1 << 22, loop=loop)


async def test_large_pieces_are_handed_on_as_they_came() -> None:
    content = reader()
    first, second = b"a" * 300_000, b"b" * 200_000
    content.feed_data(first)
    content.feed_data(second)
    content.feed_eof()
    assert await read_piece(content) is first  # the parser's own bytes: not copied
    assert await read_piece(content) is second
    assert await read_piece(content) == b""


async def test_small_chunks_are_joined_with_what_is_buffered() -> None:
    content = reader()
    chunks = [bytes([i % 256]) * 100 for i in range(1000)]  # 100 KB in chunked-encoding chunks
    for chunk in chunks:
        content.begin_http_chunk_receiving()
        content.feed_data(chunk)
        content.end_http_chunk_receiving()
    content.feed_eof()
    pieces = []
    while piece := await read_piece(content):
        pieces.append(piece)
    assert b"".join(pieces) == b"".join(chunks)
    assert len(pieces[0]) == SMALL_PIECE
    assert len(pieces) == -(-len(b"".join(chunks)) // SMALL_PIECE)


# --- real bodies ----------------------------------------------------------------------------

BODY = bytes(range(256)) * 12_000  # ~3 MB


async def _serve(reader_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        line = await reader_.readline()
        while (header := await reader_.readline()) not in (b"\r\n", b""):
            del header
        if b"/chunked" in line:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for at in range(0, len(BODY), 1000):  # 1 KB chunks
                part = BODY[at : at + 1000]
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            writer.write(b"0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
        await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def local() -> AsyncIterator[str]:
    server = await asyncio.start_server(_serve, HOST, 0)
    try:
        yield f"http://{HOST}:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


@pytest.mark.parametrize("path", ["/sized", "/chunked"])
async def test_a_body_comes_whole_and_in_order(local: str, path: str, tmp_path: Path) -> None:
    settings = Settings(allow_networks=[f"{HOST}/32"], data_dir=tmp_path)
    async with HttpClient(settings) as client, client.get(local + path, {}) as reply:
        pieces = [piece async for piece in reply.chunks()]
    assert b"".join(pieces) == BODY
    assert all(pieces)


async def test_an_empty_body_ends_at_once() -> None:
    content = aiohttp.streams.EmptyStreamReader()
    assert await read_piece(content) == b""
    assert await read_piece(content) == b""  # asked again: still the end, never a wait
