"""What a saved file really holds, checked the way a person would: it decodes, and its container,
codecs, height and duration are the ones asked for."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from mediadl.engine.probe import probe

__all__ = ["assert_media", "media_duration"]


def media_duration(path: Path, declared: float | None) -> float:
    """The container's duration, or for a streamed Matroska (which has none) the end of its last
    packet."""
    if declared is not None:
        return declared
    end = 0.0
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end


def assert_media(
    path: Path,
    *,
    container: str,
    vcodec: str | None,
    height: int | None,
    acodec: str | None,
    duration: float,
    tolerance: float = 0.5,
) -> None:
    """``path`` is ``container`` with that video (or none) and that audio (or none)."""
    result = probe(path)
    assert container in result.container.split(",")
    assert media_duration(path, result.duration) == pytest.approx(duration, abs=tolerance)
    if vcodec is None:
        assert result.video is None
    else:
        assert result.video is not None
        assert (result.video.codec, result.video.height) == (vcodec, height)
    if acodec is None:
        assert result.audio is None
    else:
        assert result.audio is not None
        assert result.audio.codec.removesuffix("float") == acodec
