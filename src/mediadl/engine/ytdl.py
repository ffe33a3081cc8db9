"""The one place that constructs yt-dlp: params, our extractors ahead of the generic one, errors.

A ``YoutubeDL`` holds per-run state, so each call gets a fresh instance built from a fresh params
dict, used as a context manager and never shared across threads. Each one gets the egress guard
(:mod:`mediadl.engine.egress_ytdl`) before its first request: only guarded handlers, no proxies
from the environment (the ``proxy`` setting is the guard's tunnel), no file/ftp/data URLs,
bounded bodies.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Literal

import yt_dlp
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import (
    DownloadCancelled,
    DownloadError,
    ExtractorError,
    GeoRestrictedError,
    UnsupportedError,
)

from mediadl import errors, regexcache
from mediadl.engine import internals
from mediadl.engine.cookies import configured_cookies, jar_of
from mediadl.engine.egress import EgressPolicy
from mediadl.engine.egress_ytdl import (
    Guard,
    GuardedDirector,
    GuardRefusal,
    guard_of,
    install_guard,
    warm_tls,
    warm_tls_aside,
)
from mediadl.engine.ffmpeg import ffmpeg_on_path
from mediadl.engine.ffmpeg_versions import check_versions, warm_versions
from mediadl.engine.jsruntime import runtime_params
from mediadl.engine.lookup import IndexedYoutubeDL, warm
from mediadl.engine.proxy import proxy_of
from mediadl.engine.warm_page import warm_page
from mediadl.models import CookieRecord
from mediadl.settings import Settings

__all__ = [
    "UNREACHABLE",
    "Purpose",
    "close_responses",
    "guard_of",
    "map_ytdl_error",
    "new_ydl",
    "warm_up",
]

Purpose = Literal["extract", "download"]
NO_FFMPEG = "/nonexistent/mediadl-ffmpeg-is-not-for-downloads"
"""``ffmpeg_location`` of a downloading ``YoutubeDL``: yt-dlp's HLS downloader hands streams it
can't read itself to ffmpeg, which would fetch the internet past the egress guard. With this
location that hand-over fails instead (unless ``allow_other_protocols``)."""

UNREACHABLE = "We couldn't reach the site. Check the link, or try again in a moment."
"""What a link whose host can't be reached (or whose name doesn't resolve) answers."""

log = logging.getLogger("mediadl.ytdl")

# yt-dlp loads plugins from well-known folders on first use; a service must not run strangers'
# code. A non-empty YTDLP_NO_PLUGINS is yt-dlp's documented switch to load none.
os.environ["YTDLP_NO_PLUGINS"] = "1"


class _Logger:
    """Sends yt-dlp's chatter to logging instead of the terminal."""

    def debug(self, msg: str) -> None:
        if not msg.startswith("[debug] "):
            log.debug("%s", msg)

    def info(self, msg: str) -> None:
        log.debug("%s", msg)

    def warning(self, msg: str) -> None:
        log.info("%s", msg)

    def error(self, msg: str) -> None:
        log.info("%s", msg)


def base_params(settings: Settings) -> dict[str, Any]:
    """A fresh params dict: yt-dlp keeps and mutates the one it is given.

    The JavaScript runtime is handed over by path, solver downloads stay off
    (:mod:`mediadl.engine.jsruntime`).
    """
    return {
        "logger": _Logger(),
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "noplaylist": False,
        "extract_flat": "in_playlist",
        "playlistend": settings.max_playlist_items,
        "socket_timeout": settings.read_timeout,
        "ratelimit": settings.fetch_rate_limit,
        "retries": settings.fetch_retries,
        "fragment_retries": settings.fetch_retries,
        "extractor_retries": 2,
        "file_access_retries": 0,
        "skip_unavailable_fragments": False,
        "cachedir": False,
        "color": {"stdout": "no_color", "stderr": "no_color"},
        "ignoreerrors": False,
        "overwrites": True,
        "continuedl": True,
        "compat_opts": set(),
        "proxy": "",
        "enable_file_urls": False,
        "hls_prefer_native": True,
        "external_downloader": {"default": "native"},
        **runtime_params(settings),
    }


class _YoutubeDL(GuardedDirector, IndexedYoutubeDL):
    """yt-dlp finding extractors through the URL index, with a request director of guarded
    handlers only (see :mod:`mediadl.engine.egress_ytdl`)."""


@contextmanager
def new_ydl(
    settings: Settings,
    extractors: Sequence[type[InfoExtractor]] = (),
    *,
    purpose: Purpose = "extract",
    policy: EgressPolicy | None = None,
    cookies: Sequence[CookieRecord] | None = None,
    **overrides: Any,
) -> Iterator[yt_dlp.YoutubeDL]:
    """A fresh, guarded ``YoutubeDL`` with ``extractors`` registered ahead of yt-dlp's own.

    ``extractors`` are classes: each ``YoutubeDL`` gets instances of its own (an instance is bound
    to the ``YoutubeDL`` it is added to, so sharing one across threads would share that state).

    ``purpose`` sets the body limits: ``extract`` reads pages (each at most ``max_page_size``),
    ``download`` reads media (all bytes together at most ``max_filesize``). ``policy`` replaces
    the one made from ``settings`` (tests inject a resolver). ``settings.disable_internals``
    takes effect here, in whichever process the ``YoutubeDL`` is made. ``cookies`` go into its jar:
    by default those ``settings`` name, read once per process (never yt-dlp's ``cookiefile``,
    which would write the jar back into the operator's file).
    """
    internals.disable(settings.disable_internals)
    regexcache.settle()
    ffmpeg_on_path(settings.ffmpeg, settings.data_dir)
    check_versions()
    params = base_params(settings)
    if purpose == "download" and not settings.allow_other_protocols:
        params["ffmpeg_location"] = NO_FFMPEG
    params.update(overrides)
    ydl = _YoutubeDL(params, auto_init=False)
    ydl.url_index_dir = settings.data_dir / "cache"
    install_guard(ydl, _guard(settings, purpose, policy))
    if purpose == "extract":
        warm_tls_aside(ydl)
    jar_of(configured_cookies(settings) if cookies is None else cookies, ydl.cookiejar)
    for ie_class in extractors:
        ydl.add_info_extractor(ie_class())
    ydl.add_default_info_extractors()
    with ydl:
        yield ydl


def _guard(settings: Settings, purpose: Purpose, policy: EgressPolicy | None) -> Guard:
    policy = policy or EgressPolicy.from_settings(settings)
    proxy = proxy_of(settings)
    if purpose == "download":
        return Guard(policy, total_limit=settings.max_filesize, proxy=proxy)
    return Guard(policy, response_limit=settings.max_page_size, proxy=proxy)


def warm_up(settings: Settings, *, generic: bool = False) -> None:
    """Pay the first extraction's costs once (:func:`~mediadl.engine.lookup.warm`), so the first
    real request doesn't; reaches nothing."""
    with new_ydl(settings, cookies=()) as ydl:  # reaches nothing: no cookies to send
        warm(ydl, generic=generic)
        if generic:
            warm_tls(ydl)
            warm_versions(ydl)
            try:
                warm_page(ydl)
            except Exception:
                log.warning("warming with a canned page failed", exc_info=True)


_PRIVATE = re.compile(r"private|sign in|log ?in|members[- ]only|account", re.I)
_UNAVAILABLE = re.compile(
    r"not available|unavailable|removed|deleted|does not exist|not found", re.I
)
_DRM = re.compile(r"\bDRM\b", re.I)
_LIVE = re.compile(r"live event will begin|premieres in|is not live|has not started", re.I)


def map_ytdl_error(exc: BaseException, url: str) -> errors.MediadlError:
    """Turn what yt-dlp raised into our error tree, keeping the cause for the log."""
    if isinstance(exc, DownloadCancelled):
        return errors.Cancelled()
    refusal = _guard_refusal(exc)
    if refusal is not None:
        return refusal
    cause: BaseException = exc
    if isinstance(exc, DownloadError) and exc.exc_info and exc.exc_info[1] is not None:
        cause = exc.exc_info[1]
    while isinstance(cause, ExtractorError) and isinstance(cause.cause, BaseException):
        if not isinstance(cause.cause, (HTTPError, TransportError, ExtractorError)):
            break
        cause = cause.cause
    message = getattr(cause, "orig_msg", None) or str(cause)
    return _classify(cause, message, url)


def _guard_refusal(exc: BaseException) -> errors.MediadlError | None:
    """The egress guard's own error (or running out of memory), wherever yt-dlp wrapped it."""
    for current in _chain(exc):
        if isinstance(current, GuardRefusal):
            return current.error
        if isinstance(current, errors.MediadlError):
            return current
        if isinstance(current, MemoryError):  # a manifest bomb met the process's memory cap
            return errors.ContentTooLarge(
                "Reading this page needs more memory than this server allows."
            )
    return None


def close_responses(exc: BaseException) -> None:
    """Close the HTTP answers yt-dlp's errors carry (a 404's open connection, say).

    Left to the garbage collector, their sockets stay open until a cycle collection finds them.
    """
    for current in _chain(exc):
        if isinstance(current, HTTPError):
            with suppress(Exception):
                current.response.close()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it, however yt-dlp wrapped them, each once."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        info = getattr(current, "exc_info", None)
        inner = info[1] if isinstance(info, tuple) and len(info) > 1 else None
        stack.extend(
            [
                current.__cause__,
                current.__context__,
                getattr(current, "cause", None),
                inner if isinstance(inner, BaseException) else None,
            ]
        )


def _classify(cause: BaseException, message: str, url: str) -> errors.MediadlError:
    if isinstance(cause, HTTPError):
        return _from_status(cause.status, url)
    if isinstance(cause, TransportError):
        if "timed out" in str(cause).lower():
            return errors.FetchTimeout(url=url)
        return errors.FetchFailed(UNREACHABLE, url=url, reason="unreachable")
    if isinstance(cause, UnsupportedError):
        return errors.ContentNoMedia(url=url)
    if isinstance(cause, GeoRestrictedError):
        return errors.ContentRegion(url=url)
    if _DRM.search(message):
        return errors.ContentDrm(url=url)
    if _LIVE.search(message):
        return errors.ContentLive("This live stream hasn't started yet.", url=url)
    if _PRIVATE.search(message):
        return errors.ContentPrivate(url=url)
    if _UNAVAILABLE.search(message):
        return errors.ContentUnavailable(url=url)
    if isinstance(cause, ExtractorError) and cause.expected:
        return errors.ContentUnavailable(url=url, detail=message)
    return errors.FetchFailed(
        "The site answered in a way we didn't understand. Try again later.", url=url
    )


def _from_status(status: int, url: str) -> errors.MediadlError:
    if status in (404, 410):
        return errors.ContentUnavailable(url=url, status=status)
    if status in (401, 403):
        return errors.ContentPrivate(
            "The site refused access to this video: it may be private or need a login.",
            url=url,
            status=status,
        )
    if status == 429:
        return errors.FetchRateLimited(url=url, status=status)
    if status == 451:
        return errors.ContentRegion(url=url, status=status)
    return errors.FetchFailed(
        f"The site answered with an error ({status}). Try again in a moment.",
        url=url,
        status=status,
    )
