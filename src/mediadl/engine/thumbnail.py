"""Fetching a thumbnail, small and bounded, and turning it into a JPEG cover."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from yt_dlp.networking import Request

from mediadl import errors
from mediadl.engine.cookies import configured_cookies
from mediadl.engine.ffmpeg import run_ffmpeg
from mediadl.engine.ytdl import map_ytdl_error, new_ydl
from mediadl.settings import Settings

__all__ = ["MAX_THUMBNAIL_BYTES", "fetch_cover", "fetch_image", "fetch_image_async"]

log = logging.getLogger(__name__)

MAX_THUMBNAIL_BYTES = 5 * 1024 * 1024


def fetch_image(
    url: str, settings: Settings, headers: dict[str, str] | None = None
) -> bytes | None:
    """A thumbnail's bytes (at most ``MAX_THUMBNAIL_BYTES``), or ``None`` when empty or larger.

    Blocking; raises the engine's errors when the site doesn't answer.
    """
    try:
        with new_ydl(settings) as ydl, ydl.urlopen(Request(url, headers=headers or {})) as resp:
            data: bytes = resp.read(MAX_THUMBNAIL_BYTES + 1)
    except Exception as exc:
        raise map_ytdl_error(exc, url) from exc
    if len(data) > MAX_THUMBNAIL_BYTES or not data:
        log.info("thumbnail skipped: %d bytes", len(data))
        return None
    return data


async def fetch_image_async(
    url: str, settings: Settings, headers: dict[str, str] | None = None
) -> bytes | None:
    """Like :func:`fetch_image`, on the running loop, through the fetcher's guarded client.

    The whole fetch has one deadline (connect plus read timeout), so a site dripping bytes
    can't hold it; raises ``fetch.*`` errors and ``link.forbidden``.
    """
    from mediadl.engine.fetch.client import HttpClient, RequestFailed
    from mediadl.engine.fetch.headers import RequestHeaders

    deadline = settings.connect_timeout + settings.read_timeout
    sent = RequestHeaders(headers or {}, configured_cookies(settings))  # where they belong
    try:
        async with asyncio.timeout(deadline), HttpClient(settings) as client:
            data = await client.read_small(url, sent, limit=MAX_THUMBNAIL_BYTES)
    except RequestFailed as exc:
        if "larger than" in exc.detail:
            log.info("thumbnail skipped: larger than %d bytes", MAX_THUMBNAIL_BYTES)
            return None
        raise exc.error(status=exc.status) from exc
    except TimeoutError:
        raise errors.FetchTimeout() from None
    return data or None


def fetch_cover(
    url: str, work_dir: Path, settings: Settings, headers: dict[str, str] | None = None
) -> Path | None:
    """A JPEG cover of at most 1280 px wide in ``work_dir``, or ``None`` if it can't be had.

    A missing cover never fails a download: it is logged and skipped.
    """
    raw = work_dir / "cover.src"
    cover = work_dir / "cover.jpg"
    try:
        data = fetch_image(url, settings, headers)
        if data is None:
            return None
        raw.write_bytes(data)
        run_ffmpeg(
            [
                "-i",
                str(raw),
                "-frames:v",
                "1",
                "-vf",
                "scale='min(1280,iw)':-2",
                "-q:v",
                "3",
                "-f",
                "image2",
                "-y",
                str(cover),
            ],
            ffmpeg=settings.ffmpeg,
        )
    except errors.Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - a cover is optional; why is logged
        log.info("thumbnail skipped: %s", exc)
        return None
    return cover
