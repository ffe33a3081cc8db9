"""Subtitles: which tracks a person asked for, fetched small and bounded, embedded or kept beside.

The tracks come from the extractor's ``subtitles`` (language → files in several formats); one
file per language is taken, in the first format of :data:`PREFERRED` it offers. Languages are
picked as yt-dlp's ``--sub-langs`` does: regular expressions matched against the whole code
(``en``, ``en.*``, ``all``); none asked for means English when there is one, else the first.
A track that can't be had is logged and skipped: subtitles never fail a download.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mediadl import errors
from mediadl.engine.thumbnail import fetch_image
from mediadl.models import MediaInfo
from mediadl.settings import Settings

__all__ = ["PREFERRED", "SubtitleTrack", "fetch_subtitles", "pick_tracks"]

log = logging.getLogger(__name__)

PREFERRED = ("vtt", "srt", "ass", "ssa", "ttml")
"""Formats ffmpeg reads, best first."""


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    lang: str
    url: str
    ext: str


def pick_tracks(info: MediaInfo, wanted: Sequence[str]) -> list[SubtitleTrack]:
    """The tracks of ``info`` in the languages ``wanted`` (regular expressions, or ``all``)."""
    offered = info.raw.get("subtitles") or {}
    langs = [lang for lang in offered if isinstance(lang, str) and lang != "live_chat"]
    if not wanted:
        chosen = ["en"] if "en" in langs else langs[:1]
    elif "all" in wanted:
        chosen = langs
    else:
        chosen = [lang for lang in langs if any(_matches(p, lang) for p in wanted)]
    tracks = []
    for lang in chosen:
        files = [f for f in offered[lang] or () if isinstance(f, dict) and f.get("url")]
        best = min(files, key=lambda f: _rank(f.get("ext")), default=None)
        if best is not None and _rank(best.get("ext")) < len(PREFERRED):
            tracks.append(SubtitleTrack(lang, str(best["url"]), str(best["ext"])))
    return tracks


def _matches(pattern: str, lang: str) -> bool:
    try:
        return re.fullmatch(pattern, lang) is not None
    except re.error:
        return pattern == lang


def _rank(ext: object) -> int:
    return PREFERRED.index(ext) if ext in PREFERRED else len(PREFERRED)


def fetch_subtitles(
    tracks: Sequence[SubtitleTrack], work: Path, settings: Settings
) -> list[tuple[SubtitleTrack, Path]]:
    """Each track as a file in ``work`` (``sub.LANG.EXT``); the ones that can't be had are
    left out."""
    fetched = []
    for i, track in enumerate(tracks):
        try:
            data = fetch_image(track.url, settings)  # small, bounded, through the egress guard
        except errors.MediadlError as err:
            log.warning("subtitles %s skipped: %s", track.lang, err.code)
            continue
        if data:
            path = work / f"sub{i}.{track.ext}"
            path.write_bytes(data)
            fetched.append((track, path))
    return fetched
