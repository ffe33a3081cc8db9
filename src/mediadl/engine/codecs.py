"""What each output container accepts, and which encoder makes a codec it lacks. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AUDIO_OUTPUTS",
    "BEST_AUDIO_BY_CODEC",
    "CONTAINER_RULES",
    "LOSSLESS_ENCODERS",
    "AudioOutput",
    "ContainerRule",
    "codec_family",
    "fits",
]


def codec_family(codec: str | None) -> str | None:
    """``avc1.64001f`` → ``h264``, ``mp4a.40.2`` → ``aac``; ``None`` for no stream."""
    if codec is None:
        return None
    name = codec.lower().split(".")[0]
    return _FAMILIES.get(name, name)


_FAMILIES = {
    "avc1": "h264",
    "avc3": "h264",
    "h264": "h264",
    "avc": "h264",
    "hev1": "hevc",
    "hvc1": "hevc",
    "h265": "hevc",
    "hevc": "hevc",
    "vp09": "vp9",
    "vp9": "vp9",
    "vp8": "vp8",
    "av01": "av1",
    "av1": "av1",
    "mp4a": "aac",
    "aac": "aac",
    "mp3": "mp3",
    "mp4a_mp3": "mp3",
    "opus": "opus",
    "vorbis": "vorbis",
    "flac": "flac",
    "ac-3": "ac3",
    "ac3": "ac3",
    "ec-3": "eac3",
    "eac3": "eac3",
    "mp3float": "mp3",
    "libdav1d": "av1",
    "libopus": "opus",
    "libvorbis": "vorbis",
    "aac_latm": "aac",
    "mjpeg": "mjpeg",
    "png": "png",
    "pcm_s16le": "pcm_s16le",
}

LOSSLESS_ENCODERS = frozenset({"flac", "pcm_s16le"})
"""Encoders that take no bitrate."""


@dataclass(frozen=True, slots=True)
class ContainerRule:
    """A container: the codecs it carries as they are, the encoders for the rest."""

    video: frozenset[str]
    audio: frozenset[str]
    video_encoder: str
    audio_encoder: str
    native_exts: frozenset[str]
    """Source extensions whose unknown codecs we assume fit."""
    muxer: str
    audio_preference: tuple[str, ...] = ()
    """Audio codecs to pick first, best first (players handle AAC in MP4 best)."""


CONTAINER_RULES: dict[str, ContainerRule] = {
    "mp4": ContainerRule(
        video=frozenset({"h264", "hevc", "av1", "vp9"}),
        audio=frozenset({"aac", "mp3", "opus", "ac3", "eac3", "flac"}),
        video_encoder="libx264",
        audio_encoder="aac",
        native_exts=frozenset({"mp4", "m4a", "m4v", "mov", "ts", "m3u8", "mpd"}),
        muxer="mp4",
        audio_preference=("aac", "mp3", "ac3", "eac3", "opus", "flac"),
    ),
    "webm": ContainerRule(
        video=frozenset({"vp8", "vp9", "av1"}),
        audio=frozenset({"opus", "vorbis"}),
        video_encoder="libvpx-vp9",
        audio_encoder="libopus",
        native_exts=frozenset({"webm", "weba"}),
        muxer="webm",
        audio_preference=("opus", "vorbis"),
    ),
    "mkv": ContainerRule(
        video=frozenset({"h264", "hevc", "av1", "vp9", "vp8", "mpeg4", "theora"}),
        audio=frozenset({"aac", "mp3", "opus", "vorbis", "flac", "ac3", "eac3"}),
        video_encoder="libx264",
        audio_encoder="libopus",
        native_exts=frozenset(),
        muxer="matroska",  # carries anything: unknown codecs are assumed to fit
        audio_preference=("opus", "aac", "vorbis", "flac", "mp3", "ac3", "eac3"),
    ),
}


@dataclass(frozen=True, slots=True)
class AudioOutput:
    """An audio-only output: its extension, muxer, the codec it wants and its encoder."""

    ext: str
    muxer: str
    codec: str
    encoder: str


AUDIO_OUTPUTS: dict[str, AudioOutput] = {
    "mp3": AudioOutput("mp3", "mp3", "mp3", "libmp3lame"),
    "m4a": AudioOutput("m4a", "ipod", "aac", "aac"),
    "opus": AudioOutput("opus", "opus", "opus", "libopus"),
    "ogg": AudioOutput("ogg", "ogg", "vorbis", "libvorbis"),
    "flac": AudioOutput("flac", "flac", "flac", "flac"),
    "wav": AudioOutput("wav", "wav", "pcm_s16le", "pcm_s16le"),
}
"""``best`` copies into the output whose codec matches the source (m4a when unknown)."""

BEST_AUDIO_BY_CODEC = {"aac": "m4a", "mp3": "mp3", "opus": "opus", "vorbis": "ogg", "flac": "flac"}


def fits(
    codec: str | None, allowed: frozenset[str], source_ext: str, native: frozenset[str]
) -> bool:
    """Whether ``codec`` can be copied into a container that carries ``allowed``."""
    family = codec_family(codec)
    if family in (None, "unknown"):
        return source_ext in native or not native
    return family in allowed or not allowed
