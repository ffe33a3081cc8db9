"""What a media file really holds, read with PyAV (no ffprobe needed): in this process, or in a
process of its own (:func:`probe_apart`) that keeps PyAV's memory out of a download's."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediadl import errors
from mediadl.avprobe import describe

__all__ = ["PROBE_TIMEOUT", "MediaProbe", "ProbeProcess", "StreamProbe", "probe", "probe_apart"]

PROBE_TIMEOUT = 60.0
"""Seconds the probe process may take (it reads headers only: well under one for any part)."""


@dataclass(frozen=True, slots=True)
class StreamProbe:
    kind: str
    """``video``, ``audio``, ``subtitle``, ``data`` or ``attachment``."""
    codec: str
    width: int | None = None
    height: int | None = None
    attached_pic: bool = False


@dataclass(frozen=True, slots=True)
class MediaProbe:
    container: str
    duration: float | None
    streams: tuple[StreamProbe, ...]
    tags: dict[str, str]

    @property
    def video(self) -> StreamProbe | None:
        return next((s for s in self.streams if s.kind == "video" and not s.attached_pic), None)

    @property
    def audio(self) -> StreamProbe | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


def probe(path: Path) -> MediaProbe:
    """Open ``path`` and describe its container, duration and streams (PyAV, in this process)."""
    import av

    try:
        return _probe_of(describe(str(path)))
    except (av.FFmpegError, OSError) as exc:
        raise _unreadable(str(exc)) from exc


class ProbeProcess:
    """A probe process (:mod:`mediadl.avprobe`) started ahead of its work: it loads PyAV while
    the parts are still being fetched, so the probe after the fetch costs only the reading.
    Used once (:func:`probe_apart`); :meth:`close` ends it when it is not needed after all."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl.avprobe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def close(self) -> None:
        """End the process if it still runs (a download that stopped before its mux)."""
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.communicate()


def probe_apart(paths: Sequence[Path], process: ProbeProcess | None = None) -> list[MediaProbe]:
    """The probes of ``paths``, in order, read by PyAV in a short-lived process of its own
    (:mod:`mediadl.avprobe`; ``process`` when one was started ahead): PyAV's ~25 MB never join
    the calling process's memory, and are gone before the mux's ffmpeg starts.
    ``ProcessingFailed`` for a file that isn't media."""
    try:
        process = process or ProbeProcess()
    except OSError as exc:
        raise _unreadable(f"the probe process failed: {exc}") from exc
    try:
        stdout, stderr = process.proc.communicate(
            json.dumps([str(p) for p in paths]) + "\n", timeout=PROBE_TIMEOUT
        )
        answers = json.loads(stdout or "null")
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise _unreadable(f"the probe process failed: {exc}") from exc
    finally:
        process.close()
    if not isinstance(answers, list) or len(answers) != len(paths):
        detail = stderr.strip()[-300:] or f"status {process.proc.returncode}"
        raise _unreadable(f"the probe process failed: {detail}")
    for answer in answers:
        if "error" in answer:
            raise _unreadable(str(answer["error"]))
    return [_probe_of(answer) for answer in answers]


def _probe_of(raw: dict[str, Any]) -> MediaProbe:
    streams = tuple(StreamProbe(**stream) for stream in raw["streams"])
    return MediaProbe(raw["container"], raw["duration"], streams, dict(raw["tags"]))


def _unreadable(detail: str) -> errors.ProcessingFailed:
    return errors.ProcessingFailed("The downloaded file couldn't be read as media.", detail=detail)
