"""What to generate: the parameters of the fixture media (a hashable, JSON-able recipe)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

#: Bump when the generator's code changes in a way the ffmpeg arguments don't show
#: (hand-written playlists, layout); it is part of the cache key.
GENERATOR_VERSION = 1


@dataclass(frozen=True, order=True)
class VideoSpec:
    """One H.264 encode: a height (width is 16:9, even) and a target video bitrate (bit/s)."""

    height: int
    bitrate: int

    @property
    def width(self) -> int:
        return (self.height * 16 // 9 + 1) // 2 * 2

    @property
    def name(self) -> str:
        """File stem of the encode, e.g. ``v360-300k``."""
        return f"v{self.height}-{self.bitrate // 1000}k"

    @classmethod
    def for_size(cls, height: int, megabytes: float, seconds: float) -> VideoSpec:
        """Spec whose video stream weighs about ``megabytes`` (10**6 bytes) over ``seconds``."""
        return cls(height, int(megabytes * 8_000_000 / seconds))


@dataclass(frozen=True)
class Recipe:
    """Everything that shapes the generated media. Equal recipes share one cache entry.

    Encodes are deduplicated: a ``VideoSpec`` used by the progressive file, the HLS
    ladder and the DASH ladder is encoded once and re-muxed with ``-c copy``.
    """

    duration: int = 60
    """Seconds of the main assets: progressive MP4, audio, HLS and DASH ladders."""
    fps: int = 24
    segment: int = 2
    """HLS/DASH segment length in seconds (also the GOP length)."""
    progressive: VideoSpec = VideoSpec(360, 300_000)
    hls: tuple[VideoSpec, ...] = (
        VideoSpec(360, 300_000),
        VideoSpec(720, 600_000),
        VideoSpec(1080, 1_000_000),
    )
    dash: tuple[VideoSpec, ...] = (VideoSpec(360, 300_000), VideoSpec(720, 600_000))
    audio_bitrate: int = 96_000
    mp3_bitrate: int = 128_000
    extras_duration: int = 20
    """Seconds of the HLS extras (plain, byterange, AES-128, discontinuity A part)."""
    clip_durations: tuple[int, ...] = (6, 8, 10)
    """Durations of the short distinct clips behind the feed and the multi-video post."""
    clip_height: int = 240
    noise: int = 0
    """Strength of ffmpeg's ``noise`` filter (0 = off); makes high bitrates reachable."""

    def __post_init__(self) -> None:
        if self.duration % self.segment or self.extras_duration % self.segment:
            raise ValueError("durations must be whole multiples of the segment length")
        if not self.hls or not self.dash:
            raise ValueError("HLS and DASH ladders need at least one rendition")
        if len({s.height for s in self.hls}) != len(self.hls):
            raise ValueError("HLS ladder heights must be distinct")
        if len(self.clip_durations) != 3:
            raise ValueError("exactly three clip durations are needed")
        if self.extras_duration > self.duration or self.extras_duration < 3 * self.segment:
            raise ValueError("extras_duration must be within [3 segments, duration]")

    @property
    def encodes(self) -> tuple[VideoSpec, ...]:
        """The distinct main-duration encodes, sorted."""
        return tuple(sorted({self.progressive, *self.hls, *self.dash}))

    @property
    def extras_spec(self) -> VideoSpec:
        """The rendition the HLS extras are cut from: the lowest HLS one."""
        return min(self.hls)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def canonical(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def big(cls) -> Recipe:
        """Benchmark payloads: ~100 MB progressive 1080p, HLS 1080p ~54 MB (30x2 s),
        DASH 1080p+audio ~55 MB; 60 s each."""
        p1080 = VideoSpec.for_size(1080, 99.0, 60)
        ladder = (
            VideoSpec(360, 800_000),
            VideoSpec(720, 3_000_000),
            VideoSpec.for_size(1080, 53.0, 60),
        )
        return cls(progressive=p1080, hls=ladder, dash=ladder, audio_bitrate=128_000)

    @classmethod
    def tiny(cls) -> Recipe:
        """Smallest useful set (fast to generate): 12 s, two renditions."""
        ladder = (VideoSpec(240, 200_000), VideoSpec(360, 300_000))
        return cls(
            duration=12,
            progressive=ladder[0],
            hls=ladder,
            dash=ladder,
            extras_duration=6,
            clip_durations=(2, 3, 4),
        )


DEFAULT_RECIPE = Recipe()
