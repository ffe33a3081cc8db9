"""A ``YoutubeDL`` built before its link arrives, used once, and only for the options it was
built with.

Building one costs 10–25 ms (registering ~1,750 extractors, the egress guard, the cookie jar): an
extraction process that waits for its link (:mod:`mediadl.engine.sandbox_child`) builds it while
it waits, so the link's extraction starts at once. It stays the one-``YoutubeDL``-per-run that
yt-dlp needs: the first extraction asking for exactly the options it was built with takes it;
any other (different options, a retry) gets a new one from :func:`~mediadl.engine.ytdl.new_ydl`,
as without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

import yt_dlp
from yt_dlp.extractor.common import InfoExtractor

from mediadl.engine.lookup import PROBE_URL
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings

__all__ = ["ReadyYdl"]


class ReadyYdl:
    """``ReadyYdl(settings, extractors, **overrides)`` builds one guarded ``YoutubeDL`` now;
    ``ready.open(settings, extractors, **overrides)`` yields it the first time those three match,
    else a new one."""

    def __init__(
        self,
        settings: Settings,
        extractors: Sequence[type[InfoExtractor]] = (),
        **overrides: Any,
    ) -> None:
        self._key = (settings, tuple(extractors), overrides)
        self._stack = ExitStack()
        self._ydl: yt_dlp.YoutubeDL | None = self._stack.enter_context(
            new_ydl(settings, extractors, **overrides)
        )

    def warm(self) -> None:
        """Pay before the link what finding its extractor would: the patterns of the extractors
        given here compiled (the warm process this one is forked from compiled yt-dlp's own, not
        these) and one lookup run, which also copies the memory pages a lookup writes (after a
        fork each page written costs a copy: ~500 of them, no longer during the extraction)."""
        _, extractors, _ = self._key
        for ie in extractors:
            ie.suitable(PROBE_URL)
        if self._ydl is not None:
            self._ydl.extractor_key(PROBE_URL)

    @property
    def waiting(self) -> bool:
        """Built and not taken yet."""
        return self._ydl is not None

    def open(
        self,
        settings: Settings,
        extractors: Sequence[type[InfoExtractor]] = (),
        **overrides: Any,
    ) -> AbstractContextManager[yt_dlp.YoutubeDL]:
        """The ready ``YoutubeDL`` when it was built for exactly these, once; otherwise (or the
        second time) a new one, the ready one closed unused."""
        built_for, extras, options = self._key
        ydl, self._ydl = self._ydl, None
        same = built_for == settings and extras == tuple(extractors) and options == overrides
        if ydl is not None and same:
            return self._handing(ydl)
        self.close()
        return new_ydl(settings, extractors, **overrides)

    def close(self) -> None:
        """Close the ready ``YoutubeDL`` if nobody took it."""
        self._ydl = None
        self._stack.close()

    @contextmanager
    def _handing(self, ydl: yt_dlp.YoutubeDL) -> Iterator[yt_dlp.YoutubeDL]:
        with self._stack:
            yield ydl
