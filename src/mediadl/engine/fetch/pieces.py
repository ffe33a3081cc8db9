"""A response body's bytes as the connection brought them, without copying them again.

aiohttp's ``readany()`` joins everything its buffer holds into one new ``bytes``: each byte of a
body that arrives faster than it is passed on is copied once more, into memory just allocated
for it (a buffer of hundreds of KiB is mapped fresh, so the copy pays a page fault every 4 KiB).
For a server relaying files that copy was its largest single cost after the sockets themselves:
about 1.3 ms of CPU per 3 MB file, as much as everything else on the receiving side together.

:func:`read_piece` hands on the pieces the parser made (each up to the session's
``read_bufsize``) one at a time, as they are. A piece smaller than ``SMALL_PIECE`` (a site that
sends its body in small chunked-encoding chunks) is joined with what else is buffered, up to
``SMALL_PIECE`` bytes, so such a body doesn't become thousands of tiny pieces for whoever reads
it: only small pieces are ever copied.
"""

from __future__ import annotations

import aiohttp

__all__ = ["SMALL_PIECE", "read_piece"]

SMALL_PIECE = 64 * 1024


async def read_piece(content: aiohttp.StreamReader) -> bytes:
    """The next bytes of the body, ``b""`` at its end (aiohttp's errors pass through)."""
    while True:
        data, boundary = await content.readchunk()
        if data:
            break
        if not boundary or content.at_eof():  # (b"", False): the end of the body
            return b""
        # (b"", True): a chunked-encoding chunk ended on a piece's end; read on
    if len(data) < SMALL_PIECE and not content.at_eof():
        more = content.read_nowait(SMALL_PIECE - len(data))
        if more:
            data += more
    return data
