"""yt-dlp's ``YoutubeDL``, finding a link's extractor sooner: the same answer as yt-dlp's own.

Three shortcuts, each over private yt-dlp internals with yt-dlp's own behaviour as the fallback
(:mod:`mediadl.engine.internals`): registering the default extractors without resolving the
``allowed_extractors`` list (reads each extractor's ``_ENABLED``), asking the URL index
(:mod:`mediadl.engine.urlindex`) which of the registered extractors (``_ies``) takes a link
before yt-dlp asks each one in turn, and, before the generic extractor reads its first page,
putting the embed index in place (:mod:`mediadl.engine.embedindex`), so only the extractors that
can find an embed in that page are loaded. :func:`warm` pays a process's first-extraction costs
once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.extractor.common import InfoExtractor, UnsupportedURLIE
from yt_dlp.utils import unified_strdate, unified_timestamp

from mediadl.engine import embedindex
from mediadl.engine.ffmpeg_versions import ask_aside
from mediadl.engine.internals import declare
from mediadl.engine.preload import AHEAD, REQUESTING
from mediadl.engine.urlindex import UrlIndex, first_suitable

__all__ = [
    "EMBEDS",
    "ENABLED",
    "IES",
    "PATTERN_CACHE",
    "IndexedYoutubeDL",
    "extractor_for",
    "keep_patterns",
    "warm",
]

IES = declare(
    "yt_dlp.YoutubeDL._ies",
    purpose="the registered extractors, in order: the URL index finds a link's extractor among "
    "them without compiling yt-dlp's 1,800 URL patterns first (a quarter second per process)",
    fallback="yt-dlp's own lookup, asking each extractor in turn",
)
ENABLED = declare(
    "yt_dlp.InfoExtractor._ENABLED",
    purpose="registering yt-dlp's default extractors without resolving its allowed_extractors "
    "list (40 ms per YoutubeDL)",
    fallback="yt-dlp's own add_default_info_extractors",
)
EMBEDS = declare(
    "yt_dlp.GenericIE._extract_embeds",
    purpose="warming the extraction processes: what the generic extractor needs on its first "
    "page (the embed index, the extractors that look for embeds with code of their own, their "
    "patterns: about a second) is paid once, by the process they are forked from",
    fallback="skipping that warm step: an extraction pays it on its first generic page",
)

PATTERNS = declare(
    "re._MAXCACHE",
    purpose="the extraction forkserver keeps every pattern it compiled while warming: yt-dlp's "
    "~2,000 overflow re's 512-entry cache, so each extraction compiled the generic extractor's "
    "own again (about a tenth of a second)",
    fallback="re's own cache size: an extraction compiles again what fell out of it",
)
PATTERN_CACHE = 8192
"""Compiled patterns kept by a warm process (about 20 MB at most, shared by its forks)."""

PROBE_URL = "https://example.invalid/"
PAGE = "<html><head><title>warm</title></head><body><p>warm</p></body></html>"


class IndexedYoutubeDL(yt_dlp.YoutubeDL):  # type: ignore[misc]
    """yt-dlp, finding a link's extractor through a :class:`UrlIndex` (same answer, sooner)."""

    url_index_dir: Path | None = None
    """Where the URL and embed indexes are cached (``None``: built in memory)."""
    _url_index: UrlIndex | None = None
    _embed_index_checked = False

    def add_default_info_extractors(self) -> None:
        """yt-dlp's, minus 40 ms spent resolving the default ``allowed_extractors`` list.

        yt-dlp turns the default list into names through a quadratic ordered-set helper; with
        the default, its result is every enabled extractor in yt-dlp's order, added here directly.
        """
        if self.params.get("allowed_extractors", ["default"]) != ["default"]:
            super().add_default_info_extractors()
            return
        enabled = ENABLED.run(_default_extractors, lambda: None)
        if enabled is None:
            super().add_default_info_extractors()
            return
        for ie in enabled:
            self.add_info_extractor(ie)

    def extract_info(self, url: str, *args: Any, **kwargs: Any) -> Any:
        """yt-dlp's, told which extractor takes ``url`` unless the caller chose one.

        Every argument passes through as given, so one a newer yt-dlp adds does too; a second
        positional one (``ie_key``), a named ``ie_key`` or ``force_generic_extractor`` is a choice.
        """
        asked = len(args) > 1 or kwargs.get("ie_key") or kwargs.get("force_generic_extractor")
        if not asked and isinstance(url, str):
            kwargs["ie_key"] = self.extractor_key(url)
        return super().extract_info(url, *args, **kwargs)

    def urlopen(self, req: Any) -> Any:
        """yt-dlp's; the process's first request also tells :mod:`mediadl.engine.preload` that
        a thread now waits on the network (a background import can use the time); in a process
        that works ahead (:data:`~mediadl.engine.preload.AHEAD`) it starts asking ffmpeg's version
        on a thread of its own, which yt-dlp would ask once the page is read, to choose the
        formats (:func:`~mediadl.engine.ffmpeg_versions.ask_aside`).
        """
        if not REQUESTING.is_set():
            REQUESTING.set()
            if AHEAD.is_set():
                ask_aside(self)
        return super().urlopen(req)

    def get_info_extractor(self, ie_key: str) -> Any:
        """yt-dlp's; before the generic extractor's first use, the embed index is put in place.

        yt-dlp's own lookup reaches the generic extractor through here too, as do the site
        extractors that look for embeds in their pages (``_extract_generic_embeds``).
        """
        if ie_key == "Generic" and not self._embed_index_checked:
            self._embed_index_checked = True
            embedindex.install(self, self.url_index_dir)
        return super().get_info_extractor(ie_key)

    def extractor_key(self, url: str) -> str | None:
        """The key of the extractor yt-dlp would pick for ``url``; ``None``: let yt-dlp look."""
        return IES.run(lambda: self._indexed_key(url), lambda: None)

    def _indexed_key(self, url: str) -> str | None:
        ies = self._ies
        if not isinstance(ies, Mapping):
            raise TypeError(f"a {type(ies).__name__}, not a mapping of extractors")
        if self._url_index is None:
            self._url_index = UrlIndex.load(ies, self.url_index_dir)
        key = first_suitable(ies, url, self._url_index)
        if key is not None and ies[key].ie_key() != key:
            raise ValueError(f"extractor {key!r} is registered under another key")
        return key


def _default_extractors() -> list[Any]:
    """What yt-dlp's ``add_default_info_extractors`` adds by default: the enabled ones, in order."""
    every: dict[str, Any] = {ie.IE_NAME.lower(): ie for ie in gen_extractor_classes()}
    every["end"] = UnsupportedURLIE()
    flags = {name: ie._ENABLED for name, ie in every.items()}
    if not all(flag is None or isinstance(flag, bool) for flag in flags.values()):
        raise TypeError("_ENABLED is no longer a flag")
    return [every[name] for name, flag in flags.items() if flag]


def extractor_for(
    url: str, extractors: Sequence[type[InfoExtractor]] = (), *, cache_dir: Path | None = None
) -> type[InfoExtractor] | None:
    """The extractor the engine hands ``url`` to, found without a request.

    The same order as a ``YoutubeDL`` from ``new_ydl`` (``extractors`` first, then yt-dlp's,
    keyed as ``add_info_extractor`` keys them) and the same lookup (:func:`first_suitable`), so
    ``mediadl sites --match`` answers what a download of that link would use. ``None`` only for
    a string no extractor takes (yt-dlp's generic one takes every web link).
    """
    defaults = ENABLED.run(_default_extractors, lambda: [*gen_extractor_classes()])
    ies: dict[str, Any] = {}
    for ie in (*extractors, *defaults):
        ies[ie.ie_key()] = ie
    key = first_suitable(ies, url, UrlIndex.load(ies, cache_dir))
    if key is None:
        return None
    found = ies[key]
    return found if isinstance(found, type) else type(found)


def warm(ydl: IndexedYoutubeDL, *, generic: bool = False) -> None:
    """Pay what the first extraction of a process would: compile every extractor's URL pattern,
    load the URL index and, with ``generic``, what the generic extractor needs on its first page:
    the embed index, built in memory (reading the ~1,750 real extractor classes behind the lazy
    ones: about 0.7 s), the extractors that look for embeds with code of their own (asked about a
    page, which compiles their patterns) and the patterns of the others (about a second in all)."""
    for ie in gen_extractor_classes():
        ie.suitable(PROBE_URL)
    ydl.url_index_dir = None  # built in memory: warming writes nothing
    ydl.extractor_key(PROBE_URL)
    if generic:
        _warm_dates()
        EMBEDS.run(lambda: _warm_embeds(ydl), lambda: None)


def keep_patterns(size: int = PATTERN_CACHE) -> None:
    """Let ``re`` keep ``size`` compiled patterns in this process (call before warming)."""

    def grow() -> None:
        current = re._MAXCACHE  # type: ignore[attr-defined]
        if not isinstance(current, int):
            raise TypeError("re._MAXCACHE is no longer a number")
        re._MAXCACHE = max(current, size)  # type: ignore[attr-defined]

    PATTERNS.run(grow, lambda: None)


def _warm_dates() -> None:
    """yt-dlp tries its ~60 date formats in turn on a page's dates (``strptime`` compiles and
    caches each): a string none matches compiles them all."""
    for text in ("2024-01-02T03:04:05Z", "no date at all"):
        unified_timestamp(text)
        unified_strdate(text)


def _warm_embeds(ydl: IndexedYoutubeDL) -> None:
    generic = ydl.get_info_extractor("Generic")  # puts the embed index in place
    list(generic._extract_embeds(PROBE_URL, PAGE))
    index = embedindex.install(ydl, ydl.url_index_dir)  # the one in place
    if index is not None:
        index.warm()
