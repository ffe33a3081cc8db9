"""Reading ffmpeg's HLS media playlists and writing the hand-made ones (masters, extras)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BYTERANGE = re.compile(r"#EXT-X-BYTERANGE:(\d+)(?:@(\d+))?")


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float
    offset: int | None = None
    length: int | None = None
    discontinuity: bool = False


def parse_media_playlist(text: str) -> list[Segment]:
    """Segments of an HLS media playlist (URIs as written, i.e. relative)."""
    segments: list[Segment] = []
    duration = 0.0
    offset: int | None = None
    length: int | None = None
    discontinuity = False
    next_offset = 0
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif m := _BYTERANGE.fullmatch(line):
            length = int(m[1])
            offset = int(m[2]) if m[2] is not None else next_offset
            next_offset = offset + length
        elif line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line and not line.startswith("#"):
            segments.append(Segment(line, duration, offset, length, discontinuity))
            offset = length = None
            discontinuity = False
    return segments


def peak_and_average(playlist: Path) -> tuple[int, int]:
    """(peak, average) bits per second over the segments of a local media playlist."""
    segs = parse_media_playlist(playlist.read_text())
    peak, total_bytes, total_secs = 0.0, 0, 0.0
    for seg in segs:
        size = seg.length if seg.length is not None else (playlist.parent / seg.uri).stat().st_size
        peak = max(peak, size * 8 / seg.duration)
        total_bytes += size
        total_secs += seg.duration
    return round(peak), round(total_bytes * 8 / total_secs)


def write_master(
    top: Path, variants: list[dict[str, Any]], audio_codec: str, version: int, fps: int
) -> None:
    """``master.m3u8`` in ``top``: one STREAM-INF per video variant + an AUDIO group."""
    audio_peak, audio_avg = peak_and_average(top / "audio" / "index.m3u8")
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{version}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",'
        'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
    ]
    for v in variants:
        peak, avg = peak_and_average(top / v["uri"])
        v["bandwidth"], v["average_bandwidth"] = peak + audio_peak, avg + audio_avg
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={v['bandwidth']},"
            f"AVERAGE-BANDWIDTH={v['average_bandwidth']},"
            f"RESOLUTION={v['width']}x{v['height']},FRAME-RATE={fps:.3f},"
            f'CODECS="{v["codecs"]},{audio_codec}",AUDIO="aud"',
            v["uri"],
        ]
    (top / "master.m3u8").write_text("\n".join(lines) + "\n")


def merge_discontinuity(folder: Path) -> list[str]:
    """Join ``a.m3u8`` and ``b.m3u8`` into ``index.m3u8`` with an EXT-X-DISCONTINUITY."""
    a = parse_media_playlist((folder / "a.m3u8").read_text())
    b = parse_media_playlist((folder / "b.m3u8").read_text())
    target = max(round(s.duration) for s in (*a, *b))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for i, seg in enumerate((*a, *b)):
        if i == len(a):
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXTINF:{seg.duration:.6f},", seg.uri]
    lines.append("#EXT-X-ENDLIST")
    (folder / "index.m3u8").write_text("\n".join(lines) + "\n")
    (folder / "a.m3u8").unlink()
    (folder / "b.m3u8").unlink()
    return [s.uri for s in (*a, *b)]


def make_implicit_iv(playlist: Path) -> None:
    """Keep only the first EXT-X-KEY and drop its IV attribute.

    ffmpeg (``periodic_rekey``, no IV in the key info) encrypts segment *n* with IV = its
    media sequence number but spells that out on every segment; the HLS default for a
    key without IV is exactly that, so the result is equivalent and exercises the
    implicit-IV path of clients.
    """
    out: list[str] = []
    seen_key = False
    for line in playlist.read_text().splitlines():
        if not line.startswith("#EXT-X-KEY:"):
            out.append(line)
        elif not seen_key:
            seen_key = True
            out.append(re.sub(r",IV=0x[0-9a-fA-F]+", "", line))
    playlist.write_text("\n".join(out) + "\n")
