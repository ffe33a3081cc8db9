"""Ctrl-C while ffmpeg is putting an HLS download together as it arrives: a real ``mediadl get``
stops, ffmpeg with it, nothing is shown as finished, and the same command then finishes the
file from the parts it kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl
from support.media import assert_media
from support.procs import eventually


def _muxing(out: Path) -> Path | None:
    """ffmpeg's output in the download's work folder, once it holds bytes."""
    for path in out.glob("*.part/muxing.*"):
        if path.stat().st_size > 0:
            return path
    return None


def _ffmpeg_writing_into(folder: Path) -> list[int]:
    """Processes (any parent: ffmpeg runs in a session of its own) named ffmpeg whose command
    line names ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        named = argv and "ffmpeg" in Path(os.fsdecode(argv[0])).name
        if named and any(os.fsencode(folder) in arg for arg in argv):
            found.append(int(entry.name))
    return found


def test_ctrl_c_while_ffmpeg_reads_stops_it_and_the_next_run_finishes(
    site: FixtureSite, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ("get", site.pages["hls"], "-q", "360", "--no-metadata", "-o", str(out))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MEDIADL_READ_TIMEOUT": "600"}
    gate = site.hold("seg_029.ts")  # the last segment of each rendition waits
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediadl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        writing = eventually(lambda: proc.poll() is not None or _muxing(out), guard=300)
        assert isinstance(writing, Path), "ffmpeg wrote nothing while the last segment was held"
        assert _ffmpeg_writing_into(out)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        gate.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    (work,) = out.iterdir()
    assert work.is_dir() and work.name.endswith(".mp4.part"), "only the kept work, no file"
    assert eventually(lambda: not _ffmpeg_writing_into(out))

    again = run_mediadl(*args, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    (saved,) = out.iterdir()
    assert saved.is_file() and saved.suffix == ".mp4"
    assert_media(saved, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60.0)
