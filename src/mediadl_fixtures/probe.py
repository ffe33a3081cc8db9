"""Tiny PyAV helpers (there is no ffprobe on the machine)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class StreamInfo:
    kind: str
    """``video`` or ``audio``."""
    codec: str
    width: int = 0
    height: int = 0
    sample_rate: int = 0


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    """Container duration in seconds."""
    format_name: str
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


def probe(path: str | Path) -> MediaInfo:
    """Container duration, format and video/audio streams of a local media file."""
    with av.open(str(path)) as container:
        streams: list[StreamInfo] = []
        for v in container.streams.video:
            streams.append(StreamInfo("video", v.codec_context.name, v.width, v.height))
        for a in container.streams.audio:
            streams.append(StreamInfo("audio", a.codec_context.name, sample_rate=a.rate))
        duration = (container.duration or 0) / av.time_base
        return MediaInfo(duration, container.format.name, tuple(streams))


def decoded_duration(path: str | Path, kind: str = "video") -> float:
    """Seconds actually covered by decoded frames of the first ``kind`` stream (slow-ish)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        first: float | None = None
        end = 0.0
        for frame in container.decode(stream):
            if not isinstance(frame, av.VideoFrame | av.AudioFrame) or frame.time is None:
                continue
            first = frame.time if first is None else first
            length = frame.duration * frame.time_base if frame.duration and frame.time_base else 0
            end = max(end, frame.time + float(length))
        return end - (first or 0.0)


def avc_codecs(path: str | Path) -> str:
    """RFC 6381 ``avc1.PPCCLL`` string of the first video stream (from its avcC box)."""
    with av.open(str(path)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    if not extradata or extradata[0] != 1:
        raise ValueError(f"{path}: no avcC extradata")
    return "avc1." + extradata[1:4].hex()
