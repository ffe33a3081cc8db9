"""One whole extraction of a page held in memory, run by the extraction forkserver while it warms.

Compiling yt-dlp's URL patterns and the generic extractor's embed patterns leaves what only a
real extraction reaches: the generic extractor reading a page's ``og:`` tags and HTML5 media,
yt-dlp sorting and selecting the formats, filling in its output template (about 50 patterns and
the date formats, 10–20 ms of every extraction forked from a cold forkserver). This runs that path
once, on a page that never leaves the process: the ``YoutubeDL``'s ``urlopen`` answers the one
canned address itself and refuses any other, before the request reaches a handler (and the
egress guard, which refuses everything the warm-up's settings don't allow, stands behind it).
"""

from __future__ import annotations

import io
from typing import Any

from yt_dlp.networking import Request, Response

__all__ = ["PAGE", "PAGE_URL", "CannedOnly", "warm_page"]

PAGE_URL = "https://warm.invalid/watch/warm"
PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warm</title>
<meta property="og:title" content="Warm">
<meta property="og:description" content="A page read while warming.">
<meta property="og:image" content="https://warm.invalid/warm.jpg">
<meta name="description" content="A page read while warming.">
</head><body>
<video controls poster="/warm.jpg" width="640" height="360">
<source src="/media/warm-720.mp4" type='video/mp4; codecs="avc1.64001f, mp4a.40.2"'>
<source src="/media/warm-480.webm" type="video/webm">
<track src="/media/warm.vtt" kind="subtitles" srclang="en" label="English">
</video>
<p>Uploaded 2024-01-02</p>
</body></html>
"""


class CannedOnly(Exception):
    """A request of the warm-up for anything but :data:`PAGE_URL` (it never leaves the process)."""


def warm_page(ydl: Any) -> list[str]:
    """Extract :data:`PAGE` with ``ydl`` as a real link would be; the URLs it asked for.

    ``ydl``'s ``urlopen`` is replaced on this instance only: every request of the extraction,
    whichever extractor makes it, goes through it.
    """
    asked: list[str] = []

    def urlopen(req: Request | str) -> Response:
        url = req if isinstance(req, str) else req.url
        asked.append(url)
        if url != PAGE_URL:
            raise CannedOnly(url)
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(PAGE))}
        return Response(io.BytesIO(PAGE), url, headers, status=200)

    ydl.urlopen = urlopen
    try:
        ydl.extract_info(PAGE_URL, download=False)
    finally:
        del ydl.urlopen
    return asked
