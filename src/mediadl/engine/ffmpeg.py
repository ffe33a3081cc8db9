"""Finding ffmpeg and running it: discovery, the PATH yt-dlp sees, process groups, cancel.

A system ffmpeg on ``PATH`` wins; otherwise the static ffmpeg that ``imageio-ffmpeg`` carries is
linked into a private ``bin`` directory as ``ffmpeg`` and that directory is put first on ``PATH``,
because yt-dlp decides whether it can merge by looking there.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from mediadl.errors import Cancelled, ProcessingFailed
from mediadl.models import CancelToken

__all__ = ["FFmpegProcess", "ffmpeg_exe", "ffmpeg_on_path", "run_ffmpeg"]

_BIN_DIR_NAME = "mediadl-bin"


@functools.cache
def ffmpeg_exe(configured: str | None = None) -> str:
    """The ffmpeg binary to run: the configured one, a system one, or the bundled one."""
    if configured:
        return configured
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def ffmpeg_on_path(configured: str | None = None) -> str:
    """Make ``ffmpeg`` resolvable on this process's ``PATH`` and return its path."""
    exe = ffmpeg_exe(configured)
    found = shutil.which("ffmpeg")
    if found and Path(found).resolve() == Path(exe).resolve():
        return exe
    bin_dir = Path(tempfile.gettempdir()) / f"{_BIN_DIR_NAME}-{os.getuid()}"
    bin_dir.mkdir(mode=0o700, exist_ok=True)
    link = bin_dir / "ffmpeg"
    if not (link.is_symlink() and link.readlink() == Path(exe)):
        tmp = bin_dir / f".ffmpeg.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(exe)
        tmp.replace(link)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return exe


class FFmpegProcess:
    """One ffmpeg run in its own process group, killed as a group on cancel or error."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        ffmpeg: str | None = None,
        stdin: int | IO[bytes] | None = None,
    ) -> None:
        """``stdin``: what ``pipe:0`` reads (another ffmpeg's stdout); nothing by default."""
        self.args = [ffmpeg_exe(ffmpeg), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._killed = threading.Event()

    def kill(self) -> None:
        """Stop ffmpeg and anything it started, at once."""
        self._killed.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    @property
    def killed(self) -> bool:
        return self._killed.is_set()


def run_ffmpeg(
    args: Sequence[str],
    *,
    cancel: CancelToken | None = None,
    ffmpeg: str | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> None:
    """Run ffmpeg to completion; raise ``Cancelled`` or ``ProcessingFailed`` (with its stderr).

    ``on_progress`` receives the ``-progress pipe:1`` key=value lines when given.
    """
    extra = ["-progress", "pipe:1", "-nostats"] if on_progress else []
    proc = FFmpegProcess([*extra, *args], ffmpeg=ffmpeg)
    unregister = cancel.on_cancel(proc.kill) if cancel else (lambda: None)
    try:
        with proc.proc:
            stderr = _drain(proc, on_progress)
    finally:
        unregister()
    if proc.killed or (cancel and cancel.cancelled):
        raise Cancelled()
    if proc.proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise ProcessingFailed(detail="\n".join(tail), returncode=proc.proc.returncode)


def _drain(proc: FFmpegProcess, on_progress: Callable[[str], None] | None) -> bytes:
    assert proc.proc.stdout is not None
    assert proc.proc.stderr is not None
    err_chunks: list[bytes] = []
    stderr = proc.proc.stderr
    reader = threading.Thread(target=lambda: err_chunks.append(stderr.read()), daemon=True)
    reader.start()
    for raw in proc.proc.stdout:
        if on_progress:
            on_progress(raw.decode("ascii", "replace").strip())
    proc.proc.wait()
    reader.join()
    return b"".join(err_chunks)
