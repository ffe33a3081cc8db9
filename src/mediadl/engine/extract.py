"""resolve(url) → MediaInfo: read a link with yt-dlp and check what comes back where it enters.

Mandatory fields (``id``; ``url``/``formats`` for a video; ``entries`` for a playlist) raise
``ContentInvalid`` when missing; every optional field defaults.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from yt_dlp.extractor.common import InfoExtractor

from mediadl import errors
from mediadl.engine.bounds import check_info
from mediadl.engine.cookies import records_of
from mediadl.engine.internals import declare
from mediadl.engine.ytdl import close_responses, guard_of, map_ytdl_error, new_ydl
from mediadl.models import CookieRecord, Entry, Format, LiveStatus, MediaInfo
from mediadl.settings import Settings

if TYPE_CHECKING:
    from mediadl.engine.ready_ydl import ReadyYdl

__all__ = ["SELECT_FORMATS", "info_to_media", "normalize_url", "resolve", "select_formats"]

_AUDIO_EXTS = frozenset({"m4a", "mp3", "opus", "ogg", "oga", "wav", "flac", "aac", "weba", "mka"})
UNKNOWN_CODEC = "unknown"
MAX_URL_LENGTH = 4096
EXTRACT_ATTEMPTS = 3
"""A page answering 429 or 5xx is asked again, twice, with a short backoff."""

SELECT_FORMATS = declare(
    "yt_dlp.YoutubeDL._select_formats",
    purpose="applies a format selector to the formats mediadl already holds, without "
    "processing the whole video again",
    fallback="yt-dlp's public format selection: process_ie_result with the selector as its "
    "format param",
)
_PROCESSED = frozenset({"formats", "requested_formats", "requested_downloads"})
"""What a processed video carries from its first selection: left out of a new one."""


def normalize_url(url: str) -> str:
    """Check a pasted link and bring it to one form: trimmed, scheme added, fragment dropped."""
    text = url.strip() if isinstance(url, str) else ""
    if not text or len(text) > MAX_URL_LENGTH or any(c.isspace() for c in text):
        raise errors.LinkInvalid(url=text[:200] or None)
    if "://" not in text and not text.lower().startswith(("http:", "https:")):
        if ":" in text.split("/", 1)[0] and not text.split(":", 1)[1][:1].isdigit():
            raise errors.LinkUnsupported(
                "Only web links (http:// or https://) can be downloaded.", url=text[:200]
            )
        host = text.split("/", 1)[0].split(":", 1)[0]
        if "." not in host and host.lower() != "localhost":
            raise errors.LinkInvalid(url=text[:200])
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise errors.LinkInvalid(url=text[:200]) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise errors.LinkUnsupported(
            "Only web links (http:// or https://) can be downloaded.", url=text[:200]
        )
    host = parts.hostname or ""
    if not host or (port is not None and not 0 < port < 65536):
        raise errors.LinkInvalid(url=text[:200])
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def resolve(
    url: str,
    settings: Settings,
    *,
    extractors: Sequence[type[InfoExtractor]] = (),
    playlist: bool = True,
    ready: ReadyYdl | None = None,
) -> MediaInfo:
    """Read ``url`` and return what it points at. Blocking: run it in a worker thread.

    ``ready``: a ``YoutubeDL`` built ahead (an extraction process waiting for its link), used
    when it was built for these options."""
    clean = normalize_url(url)
    for attempt in range(EXTRACT_ATTEMPTS):
        try:
            raw, cookies = _extract(clean, settings, extractors, playlist, ready)
            break
        except (errors.FetchRateLimited, errors.FetchFailed) as err:
            transient = isinstance(err, errors.FetchRateLimited) or (
                int(err.context.get("status") or 0) >= 500
            )
            if not transient or attempt == EXTRACT_ATTEMPTS - 1:
                raise
            time.sleep(0.25 * 2**attempt)
    if not isinstance(raw, Mapping):
        raise errors.ContentNoMedia(url=clean)
    return check_info(info_to_media(raw, fallback_url=clean, cookies=cookies), settings)


def _extract(
    url: str,
    settings: Settings,
    extractors: Sequence[type[InfoExtractor]],
    playlist: bool,
    ready: ReadyYdl | None,
) -> tuple[object, tuple[CookieRecord, ...]]:
    """yt-dlp's info dict, and its jar's cookies afterwards (the configured ones plus any the
    site set while it was read) for the fetcher."""
    opened = (ready.open if ready is not None else new_ydl)(
        settings, extractors, noplaylist=not playlist
    )
    with opened as ydl:
        guard = guard_of(ydl)
        try:
            return ydl.extract_info(url, download=False), records_of(ydl.cookiejar)
        except errors.MediadlError:
            raise
        except Exception as exc:
            close_responses(exc)
            refused = guard.refused if guard is not None else None
            raise (refused or map_ytdl_error(exc, url)) from exc


def info_to_media(
    raw: Mapping[str, Any], *, fallback_url: str = "", cookies: tuple[CookieRecord, ...] = ()
) -> MediaInfo:
    """Turn yt-dlp's info dict into a ``MediaInfo``; the one place its shape is trusted.

    ``cookies`` (the extraction's jar) go with every format, to the fetcher."""
    media_id = _text(raw.get("id"))
    if not media_id:
        raise errors.ContentInvalid(detail="no id", url=fallback_url or None)
    is_playlist = raw.get("_type") in ("playlist", "multi_video")
    entries: tuple[Entry, ...] = ()
    formats: tuple[Format, ...] = ()
    if is_playlist:
        listed = raw.get("entries") or ()
        entries = tuple(e for e in (_entry(i, cookies) for i in listed) if e is not None)
        if not entries:
            raise errors.ContentNoMedia(url=fallback_url or None)
    else:
        formats = _formats(raw, cookies)
        if not formats:
            raise errors.ContentInvalid(detail="no formats", url=fallback_url or None)
    webpage_url = _text(raw.get("webpage_url")) or _text(raw.get("original_url")) or fallback_url
    return MediaInfo(
        id=media_id,
        title=_text(raw.get("title")) or _text(raw.get("fulltitle")) or media_id,
        webpage_url=webpage_url,
        extractor=_text(raw.get("extractor_key")) or _text(raw.get("extractor")) or "generic",
        uploader=_text(raw.get("uploader"))
        or _text(raw.get("channel"))
        or _text(raw.get("artist")),
        duration=_number(raw.get("duration")),
        thumbnail=_absolute(_thumbnail(raw), webpage_url),
        live_status=_live_status(raw),
        formats=formats,
        entries=entries,
        is_playlist=is_playlist,
        raw=raw,
    )


def _formats(raw: Mapping[str, Any], cookies: tuple[CookieRecord, ...]) -> tuple[Format, ...]:
    listed = raw.get("formats")
    if not listed and raw.get("url"):
        listed = [raw]
    out = []
    for item in listed or ():
        if isinstance(item, Mapping) and _text(item.get("url")):
            out.append(_format(item, raw, cookies))
    return tuple(out)


def _format(
    item: Mapping[str, Any], parent: Mapping[str, Any], cookies: tuple[CookieRecord, ...]
) -> Format:
    ext = _text(item.get("ext")) or "mp4"
    vcodec, acodec = _codecs(item, ext)
    headers = item.get("http_headers") or parent.get("http_headers") or {}
    return Format(
        id=_text(item.get("format_id")) or "0",
        url=str(item["url"]),
        protocol=_text(item.get("protocol")) or "https",
        ext=ext,
        vcodec=vcodec,
        acodec=acodec,
        width=_int(item.get("width")),
        height=_int(item.get("height")),
        fps=_number(item.get("fps")),
        tbr=_number(item.get("tbr")),
        filesize=_int(item.get("filesize")),
        filesize_approx=_int(item.get("filesize_approx")),
        language=_text(item.get("language")),
        note=_text(item.get("format_note")),
        http_headers={str(k): str(v) for k, v in dict(headers).items()},
        cookies=cookies,
        raw=item,
    )


def _codecs(item: Mapping[str, Any], ext: str) -> tuple[str | None, str | None]:
    """yt-dlp says ``'none'`` for an absent stream and ``None`` for an unknown one."""
    vcodec, acodec = item.get("vcodec"), item.get("acodec")
    if vcodec is None and acodec is None and ext in _AUDIO_EXTS:
        return None, UNKNOWN_CODEC
    return _codec(vcodec), _codec(acodec)


def _codec(value: object) -> str | None:
    if value == "none":
        return None
    return _text(value) or UNKNOWN_CODEC


def _entry(item: object, cookies: tuple[CookieRecord, ...]) -> Entry | None:
    if not isinstance(item, Mapping):
        return None
    url = _text(item.get("webpage_url")) or _text(item.get("url"))
    if not url:
        return None
    info = None
    if item.get("formats") or (item.get("_type", "video") == "video" and item.get("id")):
        try:
            info = info_to_media(item, fallback_url=url, cookies=cookies)
        except errors.MediadlError:
            info = None
    return Entry(
        url=url,
        id=_text(item.get("id")),
        title=_text(item.get("title")),
        duration=_number(item.get("duration")),
        thumbnail=_absolute(_thumbnail(item), url),
        info=info,
    )


def _thumbnail(raw: Mapping[str, Any]) -> str | None:
    direct = _text(raw.get("thumbnail"))
    if direct:
        return direct
    thumbs = [t for t in raw.get("thumbnails") or () if isinstance(t, Mapping) and t.get("url")]
    if not thumbs:
        return None
    best = max(thumbs, key=lambda t: (_number(t.get("preference")) or 0, _int(t.get("width")) or 0))
    return str(best["url"])


def _absolute(link: str | None, base: str) -> str | None:
    """Sites write relative thumbnail links; yt-dlp passes them on as written."""
    if not link:
        return None
    absolute = urljoin(base, link)
    return absolute if absolute.startswith(("http://", "https://")) else None


def _live_status(raw: Mapping[str, Any]) -> LiveStatus:
    try:
        return LiveStatus(str(raw.get("live_status")))
    except ValueError:
        return LiveStatus.IS_LIVE if raw.get("is_live") else LiveStatus.NOT_LIVE


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _int(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def select_formats(info: MediaInfo, selector: str, settings: Settings) -> tuple[Format, ...]:
    """Apply a raw yt-dlp format selector to ``info``'s formats: what yt-dlp itself would pick."""
    by_id = {f.id: f for f in info.formats}
    formats = [dict(f.raw) for f in info.formats]
    chooser = _Chooser()
    with new_ydl(settings, format=chooser, ignore_no_formats_error=True) as ydl:
        try:
            chooser.selector = ydl.build_format_selector(selector)
        except Exception as exc:
            raise errors.FormatUnavailable(
                f"The format selector {selector!r} isn't valid: {exc}", selector=selector
            ) from exc
        chosen = SELECT_FORMATS.run(
            lambda: _select_privately(ydl, formats, chooser.selector),
            lambda: _select_publicly(ydl, info, formats, chooser),
        )
    if not chosen:
        raise errors.FormatUnavailable(
            f"No format matches {selector!r}. Use 'mediadl info --formats' to list them.",
            selector=selector,
        )
    first = chosen[0]
    parts = first.get("requested_formats") or [first]
    try:
        return tuple(by_id[str(p["format_id"])] for p in parts)
    except KeyError as exc:
        raise errors.FormatUnavailable(selector=selector) from exc


class _Chooser:
    """A format selector function (yt-dlp's ``format`` param takes one) that keeps its picks."""

    def __init__(self) -> None:
        self.selector: Callable[[Any], Iterable[dict[str, Any]]] = lambda ctx: ()
        self.chosen: list[dict[str, Any]] = []

    def __call__(self, ctx: Any) -> list[dict[str, Any]]:
        self.chosen = list(self.selector(ctx))
        return self.chosen


def _select_privately(
    ydl: Any, formats: list[dict[str, Any]], selector: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    chosen = list(ydl._select_formats(formats, selector))
    if not all(isinstance(f, dict) and "format_id" in f for f in chosen):
        raise TypeError("_select_formats no longer returns formats")
    return chosen


def _select_publicly(
    ydl: Any, info: MediaInfo, formats: list[dict[str, Any]], chooser: _Chooser
) -> list[dict[str, Any]]:
    """yt-dlp's processing of the video with the selector as its ``format``, downloading nothing.

    The processing calls the chooser with the context yt-dlp builds, whatever its shape; the
    video is a copy (yt-dlp sorts and fills in what it is given).
    """
    video = copy.deepcopy({k: v for k, v in info.raw.items() if k not in _PROCESSED})
    video["formats"] = formats
    chooser.chosen = []
    ydl.process_ie_result(video, download=False)
    return chooser.chosen
