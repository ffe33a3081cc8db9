"""Request and response bodies of the native API (``/api/v1``): validated in, documented out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mediadl.models import Choice
from mediadl.service.links import LINK_PATTERN, MAX_LINK_LENGTH

__all__ = [
    "AudioChoiceOut",
    "ChoicesOut",
    "CookiesOut",
    "DownloadOut",
    "DownloadRequest",
    "EntryOut",
    "ErrorOut",
    "HealthOut",
    "InfoOut",
    "InternalOut",
    "MediaOut",
    "ProxyOut",
    "ResolveRequest",
    "SolverOut",
    "VideoChoiceOut",
    "error_responses",
    "link_field",
]

Quality = Literal["best"] | int


def link_field(description: str) -> Any:
    """``url``: the pattern is published for clients and checked by the route (``link.invalid``)."""
    return Field(
        min_length=1,
        max_length=MAX_LINK_LENGTH,
        description=description,
        json_schema_extra={"pattern": LINK_PATTERN},
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_LINK_DESCRIPTION = (
    "The page's link: `http://` or `https://`, or a host name with a path (`https://` is "
    "assumed); spaces and line breaks around it are trimmed, none may be inside it. Anything "
    "else is refused with `link.invalid` (400), other schemes with `link.unsupported`."
)


class ResolveRequest(_Strict):
    url: str = link_field(_LINK_DESCRIPTION)
    item: int | None = Field(
        default=None, ge=1, description="1-based entry of a playlist or post to resolve alone."
    )


class DownloadRequest(_Strict):
    url: str = link_field(_LINK_DESCRIPTION)
    item: int | None = Field(
        default=None, ge=1, description="1-based entry of a playlist or post (its `index`)."
    )
    quality: Quality = Field(
        default="best", description="`best` or a height from the choices (nearest not above)."
    )
    container: Literal["mp4", "webm", "mkv"] = "mp4"
    audio: Literal["best", "mp3", "m4a", "opus"] | None = Field(
        default=None, description="Sound only, in this format (`best`: as the site has it)."
    )
    audio_bitrate: int = Field(default=128, ge=8, le=320, description="kbit/s when transcoding.")
    mute: bool = Field(default=False, description="Video without sound.")
    metadata: bool = Field(default=True, description="Write title and artist tags.")
    filename: str | None = Field(
        default=None,
        max_length=200,
        description="File name template: {title}, {id}, {uploader}, {site}, {height}, "
        "{quality} (`720p`); brackets and commas around an empty field are dropped.",
    )

    def choice(self) -> Choice:
        return Choice(
            quality=self.quality,
            container=self.container,
            audio=self.audio,
            audio_bitrate=self.audio_bitrate,
            mute=self.mute,
            metadata=self.metadata,
            name_template=self.filename,
        )


class VideoChoiceOut(BaseModel):
    quality: Quality = Field(description="What to send as `quality` for this choice.")
    height: int | None
    size: int | None = Field(description="Bytes, exact or estimated; null when unknown.")
    fps: float | None
    codec: str | None


class AudioChoiceOut(BaseModel):
    format: str = Field(description="What to send as `audio` for this choice.")
    ext: str
    transcode: bool
    size: int | None


class ChoicesOut(BaseModel):
    video: list[VideoChoiceOut]
    audio: list[AudioChoiceOut]
    mute: bool = Field(description="Whether video without sound is a distinct choice.")
    default_quality: int | None


class EntryOut(BaseModel):
    index: int = Field(description="Send as `item` to resolve or download this entry.")
    url: str
    id: str | None
    title: str | None
    duration: float | None
    thumbnail: str | None = Field(description="Thumbnail through this server (signed link).")


class MediaOut(BaseModel):
    id: str
    title: str
    uploader: str | None
    duration: float | None
    thumbnail: str | None = Field(description="Thumbnail through this server (signed link).")
    webpage_url: str
    site: str
    extractor: str
    live_status: str
    is_playlist: bool
    item: int | None = None
    choices: ChoicesOut | None = Field(default=None, description="For one video; null for lists.")
    entries: list[EntryOut] | None = Field(default=None, description="For playlists and posts.")


class DownloadOut(BaseModel):
    tunnel: str = Field(description="GET it for the file (Range works for `passthrough`).")
    events: str = Field(description="Server-Sent Events about this download's progress.")
    filename: str
    ext: str
    kind: Literal["video", "audio"]
    mode: Literal["passthrough", "remux", "transcode"]
    size: int | None = Field(description="Bytes, exact for passthrough when the site said.")
    size_is_estimate: bool
    expires_at: int = Field(description="Unix time after which the tunnel answers 410.")


class SolverOut(BaseModel):
    ready: bool = Field(
        description="Whether YouTube's challenges can be solved: a JavaScript runtime is "
        "configured, runs, and solved a test challenge with the installed yt-dlp-ejs scripts."
    )


class InternalOut(BaseModel):
    name: str = Field(description="The private yt-dlp or Python name mediadl leans on.")
    state: Literal["unused", "active", "fallback", "disabled"]
    fallback: str = Field(description="The public behaviour used when it is not.")


class ProxyOut(BaseModel):
    configured: bool
    scheme: str | None = Field(description="http, https, socks5 or socks5h; null without one.")


class CookiesOut(BaseModel):
    configured: bool = Field(description="Whether the operator gave a cookies file.")


class InfoOut(BaseModel):
    version: str
    qualities: list[int]
    containers: list[str]
    audio_formats: list[str]
    tunnel_ttl: float
    api_key_required: bool
    versions: dict[str, str | None] = Field(
        description="Versions of mediadl, yt-dlp, yt-dlp-ejs, js-runtime, ffmpeg and pyav "
        "(null: missing or not running)."
    )
    js_runtime: str | None = Field(
        description="The JavaScript runtime yt-dlp solves challenges with (deno, node, bun, "
        "quickjs); null when turned off."
    )
    challenge_solver: SolverOut
    internals: list[InternalOut]
    proxy: ProxyOut
    cookies: CookiesOut
    healthy: bool = Field(
        description="False when something essential is broken ('mediadl doctor' says what)."
    )


class HealthOut(BaseModel):
    status: Literal["ok"]
    warm: bool = Field(description="Whether the extractors are warmed up yet.")
    version: str


class _ErrorDetail(BaseModel):
    code: str
    message: str
    context: dict[str, object] | None = None


class ErrorOut(BaseModel):
    error: _ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for error answers: always JSON ``ErrorOut``, whatever the route streams."""
    codes = statuses or (400, 401, 403, 404, 410, 413, 416, 422, 429, 451, 502, 503, 504)
    return {
        code: {"model": ErrorOut, "content": {"application/json": {}}, "description": "An error."}
        for code in codes
    }
