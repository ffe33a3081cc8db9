"""Log records in a terminal command: one line each, above the bars, no traceback by default.

Without a handler, Python's last-resort one writes warnings (and a bug's traceback) straight to
stderr, into the middle of the bars. Here every record is one line through the progress view;
a traceback is shown only with ``-v`` (a bug's line already says to run again with it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.text import Text

from mediadl.cli.render import plain

__all__ = ["LineHandler", "log_to", "verbosity_level"]

_STYLES = {"WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"}


def verbosity_level(verbose: int, quiet: bool) -> int:
    """``--quiet``: errors only; default: warnings; ``-v``: what mediadl does; ``-vv``: all."""
    if quiet:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)


class LineHandler(logging.Handler):
    """Each record as ``level: message`` through ``write`` (the view's ``line``)."""

    def __init__(self, write: Callable[[Text], None], *, tracebacks: bool) -> None:
        super().__init__()
        self._write = write
        self._tracebacks = tracebacks

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = Text(f"{record.levelname.lower()}: ", style=_STYLES.get(record.levelname, "dim"))
            text.append(plain(record.getMessage()))
            if self._tracebacks and record.exc_info:
                text.append("\n" + logging.Formatter().formatException(record.exc_info))
            self._write(text)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


@contextmanager
def log_to(write: Callable[[Text], None], *, level: int) -> Iterator[None]:
    """Send the records of ``level`` and above to ``write`` while the block runs."""
    root = logging.getLogger()
    handler = LineHandler(write, tracebacks=level <= logging.INFO)
    handler.setLevel(level)
    before = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
