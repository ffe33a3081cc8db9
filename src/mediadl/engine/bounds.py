"""Bounds on what a stranger's link can make mediadl do, checked where the data enters.

After extraction (:func:`check_info`): live streams (unless ``allow_live``), duration, fragments
per format (a 583-byte MPD can list two million), and only protocols the fetcher can bound (unless
``allow_other_protocols``). Before a media playlist is parsed (:func:`check_media_playlist`): the
number of segments and the end of the list (no ``EXT-X-ENDLIST``: a live playlist that never
ends). Byte counts are bounded where bytes arrive (the fetcher's tally, the yt-dlp guard).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mediadl import errors
from mediadl.models import Format, LiveStatus, MediaInfo
from mediadl.settings import Settings

__all__ = [
    "BOUNDED_PROTOCOLS",
    "check_downloader",
    "check_info",
    "check_media_playlist",
    "fragment_count",
]

BOUNDED_PROTOCOLS = frozenset({"http", "https", "m3u8_native", "m3u8", "http_dash_segments"})
"""Protocols whose every byte passes mediadl's fetcher or yt-dlp's guarded Python downloaders."""


def check_info(info: MediaInfo, settings: Settings) -> MediaInfo:
    """``info`` within the bounds (formats in other protocols dropped), or a ``content.*`` error."""
    if info.live_status in (LiveStatus.IS_LIVE, LiveStatus.IS_UPCOMING) and not settings.allow_live:
        raise errors.ContentLive(url=info.webpage_url)
    if settings.max_duration and info.duration and info.duration > settings.max_duration:
        raise errors.ContentTooLong(
            f"This video is {info.duration / 60:.0f} minutes long; this server accepts up to "
            f"{settings.max_duration / 60:.0f}.",
            url=info.webpage_url,
            limit=settings.max_duration,
        )
    if info.is_playlist:
        return info
    for fmt in info.formats:
        count = fragment_count(fmt)
        if count > settings.max_fragments:
            raise errors.ContentTooManyItems(
                "This stream is cut into more pieces than this server accepts.",
                url=info.webpage_url,
                limit=settings.max_fragments,
            )
    if settings.allow_other_protocols:
        return info
    kept = tuple(f for f in info.formats if f.protocol in BOUNDED_PROTOCOLS)
    if not kept:
        raise errors.FormatUnavailable(
            "This video is only offered in a streaming protocol this server doesn't fetch.",
            protocols=sorted({f.protocol for f in info.formats}),
        )
    return info if len(kept) == len(info.formats) else dataclasses.replace(info, formats=kept)


def fragment_count(fmt: Format) -> int:
    fragments = fmt.raw.get("fragments")
    return len(fragments) if isinstance(fragments, (list, tuple)) else 0


def check_media_playlist(text: str, settings: Settings) -> None:
    """Refuse an HLS media playlist with too many segments, or a live one (no end)."""
    segments = 0
    ended = master = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            segments += 1
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line.startswith("#EXT-X-STREAM-INF"):
            master = True
    if segments > settings.max_fragments:
        raise errors.ContentTooManyItems(
            "This stream is cut into more pieces than this server accepts.",
            limit=settings.max_fragments,
        )
    if not ended and not master and not settings.allow_live:
        raise errors.ContentLive("This stream is live (its playlist has no end).")


def check_downloader(downloader: type[Any] | None, settings: Settings) -> None:
    """Refuse yt-dlp downloaders that hand the network to another program (ffmpeg, aria2c…)."""
    from yt_dlp.downloader import DashSegmentsFD, HlsFD, HttpFD

    if settings.allow_other_protocols or downloader in (HttpFD, HlsFD, DashSegmentsFD):
        return
    name = getattr(downloader, "__name__", "none")
    raise errors.FormatUnavailable(
        "This video is only offered in a streaming protocol this server doesn't fetch.",
        downloader=name,
    )
