"""Imported once by the extraction forkserver (:mod:`mediadl.engine.sandbox`), never by hand.

Everything the first extraction of a process would pay for is paid here, once
(:func:`mediadl.engine.lookup.warm`): importing yt-dlp, compiling every extractor's URL pattern,
loading the URL index, and what the generic extractor needs on its first page. Each extraction
process, forked from that server, starts warm.

Then the server moves to ``/``: the extractions it forks inherit a known working directory, not
the folder the server was started from (whose files are no business of theirs).
"""

from __future__ import annotations

import logging
import os

from mediadl.engine.ytdl import warm_up
from mediadl.settings import Settings


def _warm() -> None:
    settings = Settings(allow_networks=[], allow_private=False)  # reaches nothing: no page is read
    warm_up(settings, generic=True)


try:
    _warm()
except Exception:  # a cold start is slower, not wrong
    logging.getLogger("mediadl.sandbox").exception("warming the extraction forkserver failed")
os.chdir("/")
