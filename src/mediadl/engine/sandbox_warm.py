"""Imported once by the extraction forkserver (:mod:`mediadl.engine.sandbox`), never by hand.

Everything the first extraction of a process would pay for is paid here, once: importing yt-dlp,
compiling every extractor's URL pattern, and what the generic extractor needs on its first page
(importing the ~1,750 real extractor classes behind the lazy ones, compiling their embed
patterns: about two seconds). Each extraction process, forked from that server, starts warm.
"""

from __future__ import annotations

import contextlib
import logging

from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings

PAGE = "<html><head><title>warm</title></head><body><p>warm</p></body></html>"


def _warm() -> None:
    settings = Settings(
        allow_networks=[], allow_private=False
    )  # reaches nothing: no page is fetched
    with new_ydl(settings, cookies=()) as ydl:  # each child gets its parent's cookies
        for ie in ydl._ies.values():
            ie.suitable("https://example.invalid/")
        generic = ydl.get_info_extractor("Generic")
        with contextlib.suppress(Exception):
            list(generic._extract_embeds("https://example.invalid/", PAGE))


try:
    _warm()
except Exception:  # a cold start is slower, not wrong
    logging.getLogger("mediadl.sandbox").exception("warming the extraction forkserver failed")
