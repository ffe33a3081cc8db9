"""``mediadl`` in a real pseudo-terminal, and the screen a person would see at the end.

The process writes to a pty of a given size, as in a terminal window; its bytes (cursor moves,
erased lines, colours) are played into pyte, a terminal emulator, so a test reads the lines
as they stand on the screen, not the stream that drew them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyte

__all__ = ["TerminalRun", "run_in_terminal"]


@dataclass
class TerminalRun:
    returncode: int
    raw: bytes
    """Every byte written to the terminal (stdout and stderr, unless stdout was piped)."""
    screen: list[str]
    """The screen's lines at the end, trailing blanks cut, blank lines at the bottom dropped."""
    stdout: str
    """What went to stdout when it was a pipe (``pipe_stdout``), else ``""``."""


def run_in_terminal(
    *args: str,
    columns: int = 80,
    rows: int = 200,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    pipe_stdout: bool = False,
    prefix: Sequence[str] = (),
    timeout: float = 120,
) -> TerminalRun:
    """``python -m mediadl ARGS`` with stdin, stderr (and stdout unless ``pipe_stdout``) on a
    ``columns`` × ``rows`` pty; ``rows`` is tall so that nothing scrolls off the screen.
    ``prefix`` runs it through another command (``unshare …``)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environ = dict(os.environ if env is None else env)
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        environ.pop(name, None)
    environ["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "mediadl", *args],
        stdin=slave,
        stdout=subprocess.PIPE if pipe_stdout else slave,
        stderr=slave,
        env=environ,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    try:
        raw = _read_all(master, proc, timeout)
        out = proc.stdout.read().decode() if proc.stdout else ""
        proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.stdout:
            proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return TerminalRun(proc.returncode, raw, _screen(raw, columns, rows), out)


def _read_all(master: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def _screen(raw: bytes, columns: int, rows: int) -> list[str]:
    screen = pyte.Screen(columns, rows)
    # A pty turns "\n" into "\r\n" (onlcr); pyte needs the carriage returns to see new lines.
    pyte.ByteStream(screen).feed(raw)
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines
