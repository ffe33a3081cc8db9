"""Finding ffmpeg and running it: discovery, the PATH yt-dlp sees, process groups, cancel.

A system ffmpeg on ``PATH`` wins; otherwise the static ffmpeg that ``imageio-ffmpeg`` carries is
linked into a private ``bin`` directory as ``ffmpeg`` and that directory is put first on ``PATH``,
because some of yt-dlp's checks look there (its ffmpeg downloader asks whether ffmpeg is available
without reading ``ffmpeg_location``).

Whatever is first on ``PATH`` runs as this process, so that directory is ``<data_dir>/bin``, not a
shared temporary folder another user could create first: it must be a real directory of this user
that no one else can write to (0700). One that isn't (another owner, looser mode, a symbolic link)
is removed and made again; if it can't be, nothing goes on ``PATH``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import shutil
import signal
import stat
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from mediadl.errors import Cancelled, OutputError, ProcessingFailed, output_error
from mediadl.models import CancelToken

__all__ = ["FFmpegProcess", "ffmpeg_exe", "ffmpeg_on_path", "private_bin", "run_ffmpeg"]

log = logging.getLogger("mediadl.ffmpeg")


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
def ffmpeg_on_path(configured: str | None, data_dir: Path) -> str:
    """Make ``ffmpeg`` resolvable on this process's ``PATH`` and return its path.

    When the ffmpeg to run isn't the one ``PATH`` already finds, it is linked into
    ``data_dir/bin`` (:func:`private_bin`) and that folder goes first on ``PATH``.
    """
    exe = ffmpeg_exe(configured)
    found = shutil.which("ffmpeg")
    if found and Path(found).resolve() == Path(exe).resolve():
        return exe
    bin_dir = private_bin(data_dir.absolute())
    if bin_dir is None:
        return exe
    link = bin_dir / "ffmpeg"
    if not (link.is_symlink() and link.readlink() == Path(exe)):
        tmp = bin_dir / f".ffmpeg.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(exe)
        tmp.replace(link)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return exe


def private_bin(data_dir: Path) -> Path | None:
    """``data_dir/bin`` as a folder only this user can write to, or ``None`` if it can't be."""
    path = data_dir / "bin"
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for _ in range(2):
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=0o700)
            if _private(path):
                return path
            log.warning("%s isn't a folder only this user can write to: making it again", path)
            _remove(path)
    except OSError as exc:
        log.warning("can't make %s private (%s): ffmpeg is not put on PATH", path, exc)
    return None


def _private(path: Path) -> bool:
    info = path.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


class FFmpegProcess:
    """One ffmpeg run in its own process group, killed as a group on cancel or error."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        ffmpeg: str | None = None,
        stdin: int | IO[bytes] | None = None,
        stdout: int | IO[bytes] = subprocess.PIPE,
        stderr: int | IO[bytes] = subprocess.PIPE,
        pass_fds: Sequence[int] = (),
    ) -> None:
        """``stdin``: what ``pipe:0`` reads (another ffmpeg's stdout); nothing by default.
        ``stdout`` and ``stderr``: where ``pipe:1`` and the messages go; new pipes by default.
        ``pass_fds``: more descriptors ffmpeg inherits (``pipe:N`` inputs)."""
        self.args = [ffmpeg_exe(ffmpeg), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
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
    pass_fds: Sequence[int] = (),
) -> None:
    """Run ffmpeg to completion; raise ``Cancelled`` or ``ProcessingFailed`` (with its stderr).

    ``on_progress`` receives the ``-progress pipe:1`` key=value lines when given. ``pass_fds``
    (the read ends of ``pipe:N`` inputs) are ffmpeg's alone once it starts: they are closed
    here, so a writer to them learns of ffmpeg's exit (``EPIPE``) instead of filling a pipe
    no one reads.
    """
    extra = ["-progress", "pipe:1", "-nostats"] if on_progress else []
    try:
        proc = FFmpegProcess([*extra, *args], ffmpeg=ffmpeg, pass_fds=pass_fds)
    finally:
        for fd in pass_fds:
            os.close(fd)
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
        detail = "\n".join(tail)
        output = _output_failure(detail, proc.proc.returncode)
        if output is not None:
            raise output
        raise ProcessingFailed(detail=detail, returncode=proc.proc.returncode)


# What ffmpeg says (strerror) when the file it writes can't grow or be written at all.
_OUTPUT_ERRNOS = {
    os.strerror(code): code
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES)
}


def _output_failure(stderr: str, returncode: int) -> OutputError | None:
    """A failed run that was no fault of the media: the disk is full (or the file hit the
    size limit, ``SIGXFSZ``) or the folder refused the write. Said as such, not "couldn't
    convert": the same run works once there is room."""
    if returncode == -signal.SIGXFSZ:
        return output_error(OSError(errno.EFBIG, os.strerror(errno.EFBIG)))
    for text, code in _OUTPUT_ERRNOS.items():
        if text in stderr:
            return output_error(OSError(code, text))
    return None


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
