"""Imported once by the extraction forkserver (:mod:`mediadl.engine.sandbox`), never by hand.

Everything the first extraction of a process would pay for is paid here, once
(:func:`mediadl.engine.lookup.warm`): importing yt-dlp, compiling every extractor's URL pattern
(kept: ``re``'s cache is grown first to hold them all), loading the URL index, what the generic
extractor needs on its first page (the embed index, built in memory: every extractor class read
once; the patterns of the extractors that can find an embed; yt-dlp's date formats), the TLS
context yt-dlp's requests use (reading the CA bundle), ffmpeg's and ffprobe's versions
(:mod:`mediadl.engine.ffmpeg_versions`) and one whole extraction of a page held in memory, which
compiles what only a real extraction reaches (:mod:`mediadl.engine.warm_page`; no request leaves
the process). The pool also has the forkserver import its site extractors' modules
(:func:`mediadl.engine.sandbox.preload`). Each extraction process, forked from that server,
starts warm.

Then the server moves to ``/``: the extractions it forks inherit a known working directory, not
the folder the server was started from (whose files are no business of theirs).
"""

from __future__ import annotations

import logging
import os

from mediadl.engine.lookup import keep_patterns
from mediadl.engine.ytdl import warm_up
from mediadl.settings import Settings


def _warm() -> None:
    settings = Settings(allow_networks=[], allow_private=False)  # reaches nothing: no page is read
    keep_patterns()
    warm_up(settings, generic=True)


try:
    _warm()
except Exception:  # a cold start is slower, not wrong
    logging.getLogger("mediadl.sandbox").exception("warming the extraction forkserver failed")
os.chdir("/")
