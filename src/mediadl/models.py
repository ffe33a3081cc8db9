"""Typed records that flow through the pipeline: resolve → plan → fetch → mux → deliver.

Only ``engine.extract`` builds these from yt-dlp's info dicts; everything else reads them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "AUDIO_FORMATS",
    "CONTAINERS",
    "QUALITY_LADDER",
    "AudioFormat",
    "CancelToken",
    "Choice",
    "Container",
    "CookieRecord",
    "Entry",
    "Format",
    "LiveStatus",
    "MediaInfo",
    "Plan",
    "Progress",
    "ProgressHook",
    "Stage",
    "StreamPlan",
]

QUALITY_LADDER: tuple[int, ...] = (2160, 1440, 1080, 720, 480, 360, 240, 144)
"""Heights a person can pick besides ``best``, highest first."""

Container = Literal["mp4", "webm", "mkv"]
CONTAINERS: tuple[Container, ...] = ("mp4", "webm", "mkv")

AudioFormat = Literal["best", "mp3", "m4a", "opus", "wav"]
AUDIO_FORMATS: tuple[AudioFormat, ...] = ("best", "mp3", "m4a", "opus")
"""The audio formats the page, the native API and the command line offer. ``wav`` (PCM, about
ten times an MP3's size) is for cobalt's clients, whose settings offer it."""


class LiveStatus(StrEnum):
    NOT_LIVE = "not_live"
    IS_LIVE = "is_live"
    WAS_LIVE = "was_live"
    IS_UPCOMING = "is_upcoming"
    POST_LIVE = "post_live"


@dataclass(frozen=True, slots=True)
class CookieRecord:
    """One cookie, field by field (``http.cookiejar.Cookie``'s), so it can't be misread.

    Carried from the jar yt-dlp extracted with to the fetcher, which lets the standard library's
    ``CookieJar`` decide per request which ones to send. The value stays out of ``repr``, so a
    cookie never reaches a log line by way of a record.
    """

    name: str
    value: str | None = field(repr=False)
    domain: str
    path: str = "/"
    secure: bool = False
    expires: int | None = None
    domain_specified: bool = True
    domain_initial_dot: bool = False
    path_specified: bool = True
    port: str | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class Format:
    """One downloadable stream of a video, as the site offers it."""

    id: str
    url: str
    protocol: str
    ext: str
    vcodec: str | None = None
    acodec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    tbr: float | None = None
    """Total bitrate in kbit/s."""
    filesize: int | None = None
    filesize_approx: int | None = None
    language: str | None = None
    note: str | None = None
    http_headers: Mapping[str, str] = field(default_factory=dict)
    cookies: tuple[CookieRecord, ...] = field(default=(), repr=False, compare=False)
    """The cookies of the extraction that found this format (the jar yt-dlp used: the
    configured ones plus those the site set); the fetcher sends each only where it belongs."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """yt-dlp's format dict: fragments, manifest URLs — for the fetchers only."""

    @property
    def has_video(self) -> bool:
        return self.vcodec is not None

    @property
    def has_audio(self) -> bool:
        return self.acodec is not None

    @property
    def size(self) -> int | None:
        """Exact size when the site says it, else an estimate, else ``None``."""
        return self.filesize or self.filesize_approx


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a playlist or a multi-item post; ``info`` is set once it is resolved."""

    url: str
    id: str | None = None
    title: str | None = None
    duration: float | None = None
    thumbnail: str | None = None
    info: MediaInfo | None = None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a link points at: one video (``formats``) or many (``entries``)."""

    id: str
    title: str
    webpage_url: str
    extractor: str
    uploader: str | None = None
    duration: float | None = None
    thumbnail: str | None = None
    live_status: LiveStatus = LiveStatus.NOT_LIVE
    formats: tuple[Format, ...] = ()
    entries: tuple[Entry, ...] = ()
    is_playlist: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def site(self) -> str:
        """A short, human name for where this came from."""
        return self.extractor.split(":")[0]


@dataclass(frozen=True, slots=True)
class Choice:
    """What a person asked for, in their words.

    ``quality`` is ``"best"`` or a ladder height; ``audio`` asks for sound only; ``mute`` for
    video without sound; ``format_selector`` is the raw yt-dlp escape hatch and wins over the rest.
    """

    quality: int | Literal["best"] = "best"
    container: Container = "mp4"
    audio: AudioFormat | None = None
    audio_bitrate: int = 128
    """kbit/s, used when audio has to be transcoded."""
    sound_only_as: AudioFormat | None = None
    """When the media turns out to have sound only, serve it as this audio format instead of
    refusing the video asked for (cobalt's ``auto`` and ``mute`` modes, for an item of a post
    not yet read when its link was made)."""
    mute: bool = False
    format_selector: str | None = None
    metadata: bool = True
    """Write title/artist tags and the thumbnail where the container allows."""
    name_template: str | None = None
    """``{title}``, ``{id}``, ``{uploader}``, ``{height}``, ``{quality}`` (``720p``), ``{site}``;
    the extension is added."""
    subtitles: tuple[str, ...] = ()
    """Subtitle languages (regular expressions, or ``all``); empty: English, else the first."""
    write_subtitles: bool = False
    """Save each subtitle track beside the file (``NAME.LANG.vtt``)."""
    embed_subtitles: bool = False
    """Put the subtitle tracks into the file (mp4, mkv, webm)."""
    section: tuple[float, float | None] | None = None
    """Keep only these seconds (start, end or ``None`` for the end): cut by stream copy, so the
    video starts at the keyframe at or before ``start``."""


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """What happens to one output stream: copy it or transcode it to ``codec``."""

    source: Format
    action: Literal["copy", "transcode"]
    codec: str
    """ffmpeg encoder name when transcoding, the source codec when copying."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Which formats, which container, which codec work and which file name — decided up front."""

    info: MediaInfo
    choice: Choice
    formats: tuple[Format, ...]
    """What to fetch: one muxed format, or video then audio."""
    ext: str
    """Output file extension, also the container: mp4, webm, mkv, m4a, mp3, opus, ogg…"""
    filename: str
    video: StreamPlan | None = None
    audio: StreamPlan | None = None
    estimated_size: int | None = None

    @property
    def needs_ffmpeg(self) -> bool:
        """False when the single fetched file already is the output."""
        if len(self.formats) != 1 or self.choice.section is not None:
            return True
        if self.choice.embed_subtitles and self.ext in ("mp4", "mkv", "webm"):
            return True
        fmt = self.formats[0]
        if fmt.protocol not in ("http", "https"):
            return True  # segments must be joined into a real container
        copies = all(s is None or s.action == "copy" for s in (self.video, self.audio))
        drops = (fmt.has_video and self.video is None) or (fmt.has_audio and self.audio is None)
        return not (copies and not drops and fmt.ext == self.ext and not self.choice.metadata)

    @property
    def kind(self) -> Literal["video", "audio"]:
        return "video" if self.video is not None else "audio"


class Stage(StrEnum):
    RESOLVE = "resolve"
    FETCH = "fetch"
    MUX = "mux"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress event: what stage, how many bytes of how many, how fast."""

    stage: Stage
    downloaded: int = 0
    total: int | None = None
    total_is_estimate: bool = False
    speed: float | None = None
    """Bytes per second."""
    eta: float | None = None
    """Seconds."""
    part: str | None = None
    """Which stream is moving (format id), when several are fetched."""


ProgressHook = Callable[[Progress], None]


class CancelToken:
    """Set once to stop a download; every blocking step checks it or is killed by it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on cancel (now, if already cancelled); returns an unregister."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)
