"""ffmpeg's and ffprobe's versions, asked once by the extraction forkserver, not per extraction,
and asked ahead, while the page loads, by a fresh process (:func:`ask_aside`).

yt-dlp decides a video's default format by whether it could merge video and audio, and finds that
out by running ``ffmpeg -bsfs`` (and ``ffprobe -version``): two processes started, read and reaped
for every ``YoutubeDL`` of a fresh process (30–100 ms of each extraction). It keeps the answers in
a class-level cache keyed by program, so the forkserver asks once and every extraction forked from
it inherits the answers. A child whose ``PATH`` finds another program (the operator's ``ffmpeg``
setting puts its own first, see :func:`mediadl.engine.ffmpeg.ffmpeg_on_path`) forgets the
inherited answer and asks its own.
"""

from __future__ import annotations

import os
import shutil
import threading
from typing import Any

from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor

from mediadl.engine.internals import declare

__all__ = ["VERSIONS", "ask_aside", "check_versions", "warm_versions"]

VERSIONS = declare(
    "yt_dlp.FFmpegPostProcessor._version_cache",
    purpose="the extraction forkserver asks ffmpeg's and ffprobe's versions once; yt-dlp keeps "
    "them per program, so each extraction forked from it starts no ffmpeg to ask again",
    fallback="yt-dlp asks them in each extraction (two processes started per extraction)",
)
PROGRAMS = ("ffmpeg", "ffprobe")
_warmed: dict[str, str | None] = {}
"""What ``PATH`` found for each program when its version was asked (empty: nothing warmed)."""


def warm_versions(ydl: Any) -> None:
    """Ask yt-dlp for ffmpeg's and ffprobe's versions now, as an extraction would."""

    def ask() -> None:
        caches = _caches()
        processor = FFmpegPostProcessor(ydl)
        processor.available  # noqa: B018 - runs ffmpeg once; yt-dlp keeps the answer
        processor.probe_available  # noqa: B018
        if not all(p in caches[0] for p in PROGRAMS):
            raise LookupError("the versions are no longer kept per program")
        _warmed.update({p: _found(p) for p in PROGRAMS})

    VERSIONS.run(ask, lambda: None)


def ask_aside(ydl: Any) -> None:
    """:func:`warm_versions` on a thread of its own, started when a fresh process (a ``mediadl
    get``) sends its first request: ``ffmpeg -bsfs`` then runs while the page is on its way
    instead of after it came (~30 ms of every download's start). yt-dlp keeps the answer per
    program; a process forked from a warm one finds it there and starts nothing."""
    threading.Thread(
        target=warm_versions, args=(ydl,), name="mediadl-versions", daemon=True
    ).start()


def check_versions() -> None:
    """Forget an inherited version whose program ``PATH`` now finds elsewhere (or that the
    operator's ``disable_internals`` turns off): yt-dlp then asks that program itself."""
    if not _warmed:
        return
    warmed = list(_warmed.items())  # a copy: a version asked aside may be landing now
    stale = [p for p, found in warmed if not VERSIONS.usable() or _found(p) != found]
    if not stale:
        return
    versions, features = _caches()
    for program in stale:
        versions.pop(program, None)
        features.pop(program, None)
        _warmed.pop(program, None)


def _caches() -> tuple[dict[Any, Any], dict[Any, Any]]:
    versions = FFmpegPostProcessor._version_cache
    features = FFmpegPostProcessor._features_cache
    if not isinstance(versions, dict) or not isinstance(features, dict):
        raise TypeError("yt-dlp no longer keeps ffmpeg's version in a dict")
    return versions, features


def _found(program: str) -> str | None:
    """The file ``PATH`` runs for ``program``, through links (the bundled ffmpeg is linked)."""
    found = shutil.which(program)
    return os.path.realpath(found) if found else None
