"""cobalt's API 11 request body and how it maps onto mediadl's ``Choice``.

Facts from cobalt's public API documentation (``docs/api.md``, ``api/src/processing/schema.js``):
every key but ``url`` is optional, unknown keys are refused, values are strings from fixed lists
(no coercion: ``"128"``, not ``128``), ``localProcessing`` may still come as a boolean.
Service-specific options are accepted and, where mediadl has no such knob, ignored.
A source that has only sound is served as audio whatever the mode, as cobalt does.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mediadl.models import AudioFormat, Choice, MediaInfo, Plan
from mediadl.service.schemas import link_field

__all__ = [
    "CobaltRequest",
    "audio_only",
    "name_template",
    "normalize_body",
    "to_choice",
    "with_template",
]

_LANG = Field(default=None, min_length=2, max_length=8, pattern=r"^[0-9a-zA-Z\-]+$")
_AUDIO: dict[str, AudioFormat] = {
    "best": "best",
    "mp3": "mp3",
    "opus": "opus",
    "ogg": "opus",
    "wav": "wav",
}


class CobaltRequest(BaseModel):
    """``POST /`` body, with cobalt's defaults."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = link_field(
        "The page's link (`http://`, `https://`, or a host name with a path); anything else is "
        "`error.api.link.invalid`. The whole body is at most 1 KiB, as cobalt's."
    )
    audioBitrate: Literal["320", "256", "128", "96", "64", "8"] = "128"
    audioFormat: Literal["best", "mp3", "ogg", "wav", "opus"] = "mp3"
    downloadMode: Literal["auto", "audio", "mute"] = "auto"
    filenameStyle: Literal["classic", "pretty", "basic", "nerdy"] = "basic"
    youtubeVideoCodec: Literal["h264", "av1", "vp9"] = "h264"
    youtubeVideoContainer: Literal["auto", "mp4", "webm", "mkv"] = "auto"
    videoQuality: Literal[
        "max", "4320", "2160", "1440", "1080", "720", "480", "360", "240", "144"
    ] = "1080"
    localProcessing: Literal["disabled", "preferred", "forced"] = "disabled"
    youtubeDubLang: str | None = _LANG
    subtitleLang: str | None = _LANG
    disableMetadata: bool = False
    allowH265: bool = False
    convertGif: bool = True
    tiktokFullAudio: bool = False
    alwaysProxy: bool = False
    youtubeHLS: bool = False
    youtubeBetterAudio: bool = False


def normalize_body(body: dict[str, Any]) -> dict[str, Any]:
    """cobalt still accepts the older boolean ``localProcessing``."""
    value = body.get("localProcessing")
    if isinstance(value, bool):
        return {**body, "localProcessing": "preferred" if value else "disabled"}
    return body


def audio_only(req: CobaltRequest, info: MediaInfo | None) -> bool:
    """Whether the answer is sound only: asked for, or all the source has (cobalt serves an
    audio-only source as audio in ``auto`` and ``mute`` modes too)."""
    if req.downloadMode == "audio":
        return True
    if info is None or info.is_playlist or not info.formats:
        return False
    return not any(f.has_video for f in info.formats)


def to_choice(req: CobaltRequest, info: MediaInfo | None = None) -> Choice:
    """What the person asked for, in mediadl's words (``info``: the source, once read)."""
    sound_only = audio_only(req, info)
    container = req.youtubeVideoContainer
    return Choice(
        quality="best" if req.videoQuality == "max" else int(req.videoQuality),
        container="mp4" if container == "auto" else container,
        audio=_AUDIO[req.audioFormat] if sound_only else None,
        # cobalt serves sound-only media as audio in every mode: so too an item of a post,
        # whose link is made before the item is read
        sound_only_as=None if sound_only else _AUDIO[req.audioFormat],
        audio_bitrate=int(req.audioBitrate),
        mute=req.downloadMode == "mute" and not sound_only,
        metadata=not req.disableMetadata,
    )


def name_template(req: CobaltRequest, info: MediaInfo, plan: Plan | None, service: str) -> str:
    """cobalt's file name styles (classic, basic, pretty, nerdy) as a mediadl name template.

    ``service`` is the name cobalt would show (:mod:`~mediadl.service.cobalt_names`), written
    into the template as it is (braces escaped), not yt-dlp's extractor name.
    """
    sound_only = audio_only(req, info)
    site = service.replace("{", "{{").replace("}", "}}")
    title = "{title} - {uploader}" if info.uploader else "{title}"
    tags = []
    if plan is not None and plan.video is not None and plan.video.source.height:
        tags.append("{height}p")
    if req.downloadMode == "mute" and not sound_only:
        tags.append("mute")
    style = req.filenameStyle
    if style == "classic":
        return f"{site}_{{id}}_audio" if sound_only else "_".join([site, "{id}", *tags])
    extra = {"basic": [], "pretty": [site], "nerdy": [site, "{id}"]}[style]
    parts = extra if sound_only else [*tags, *extra]
    return f"{title} ({', '.join(parts)})" if parts else title


def with_template(choice: Choice, template: str) -> Choice:
    return dataclasses.replace(choice, name_template=template)
