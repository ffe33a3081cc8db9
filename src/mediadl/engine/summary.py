"""What a person sees before downloading: the media in short and the choices really available."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from mediadl import errors
from mediadl.engine.codecs import codec_family
from mediadl.engine.planner import ladder_steps, plan
from mediadl.models import AUDIO_FORMATS, Choice, MediaInfo

__all__ = ["AudioChoice", "Choices", "VideoChoice", "choices", "summarize"]


@dataclass(frozen=True, slots=True)
class VideoChoice:
    quality: int | Literal["best"]
    """What to ask for (``Choice.quality``): a ladder height, or best when heights are unknown."""
    height: int | None
    size: int | None
    """Bytes, exact or estimated; ``None`` when the site gives nothing to go on."""
    fps: float | None
    codec: str | None


@dataclass(frozen=True, slots=True)
class AudioChoice:
    format: str
    """``Choice.audio``: best, mp3, m4a or opus."""
    ext: str
    transcode: bool
    size: int | None


@dataclass(frozen=True, slots=True)
class Choices:
    video: tuple[VideoChoice, ...]
    audio: tuple[AudioChoice, ...]
    mute: bool
    """Whether video without sound is a distinct choice (the video has sound)."""
    default_quality: int | None


def choices(info: MediaInfo, *, default_height: int = 1080) -> Choices:
    """Every ladder step and audio format that leads to a distinct, real result."""
    if info.is_playlist or not info.formats:
        return Choices((), (), False, None)
    video = []
    for step in ladder_steps(info.formats):
        p = plan(info, Choice(quality=step, metadata=False))
        source = p.video.source if p.video else None
        video.append(
            VideoChoice(
                step,
                step,
                p.estimated_size,
                source.fps if source else None,
                codec_family(source.vcodec) if source else None,
            )
        )
    if not video and any(f.has_video for f in info.formats):
        p = plan(info, Choice(metadata=False))
        video.append(VideoChoice("best", None, p.estimated_size, None, None))
    audio = []
    for fmt in AUDIO_FORMATS:
        try:
            p = plan(info, Choice(audio=fmt, metadata=False))
        except errors.FormatUnavailable:
            break
        transcode = p.audio is not None and p.audio.action == "transcode"
        audio.append(AudioChoice(fmt, p.ext, transcode, None if transcode else p.estimated_size))
    has_sound = any(f.has_audio for f in info.formats)
    heights = [v.height for v in video if v.height]
    default = max((h for h in heights if h <= default_height), default=min(heights, default=None))
    return Choices(tuple(video), tuple(audio), bool(video) and has_sound, default)


def summarize(info: MediaInfo) -> dict[str, Any]:
    """A JSON-ready summary: the media, its choices, and its entries for playlists."""
    body: dict[str, Any] = {
        "id": info.id,
        "title": info.title,
        "uploader": info.uploader,
        "duration": info.duration,
        "thumbnail": info.thumbnail,
        "webpage_url": info.webpage_url,
        "site": info.site,
        "extractor": info.extractor,
        "live_status": info.live_status.value,
        "is_playlist": info.is_playlist,
    }
    if info.is_playlist:
        body["entries"] = [
            {
                "index": i,
                "url": e.url,
                "id": e.id,
                "title": e.title,
                "duration": e.duration,
                "thumbnail": e.thumbnail,
            }
            for i, e in enumerate(info.entries, 1)
        ]
    else:
        body["choices"] = asdict(choices(info))
    return body
