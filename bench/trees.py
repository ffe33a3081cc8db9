"""Other source trees of mediadl a benchmark runs beside the installed one (``PYTHONPATH=SRC``).

``SRC`` is a folder that holds the ``mediadl`` package: a checkout's ``src/``. Anything else is
refused: ``mediadl`` is a namespace package, so ``PYTHONPATH`` set to a folder without it (the
checkout itself, say) runs the installed mediadl under the other tree's name, and a before/after
comparison would quietly compare the installed tree with itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["INSTALLED", "named", "source"]

INSTALLED = ("mediadl", "")
"""The installed mediadl, as a (name, source) pair with no source of its own."""


def source(text: str) -> str:
    """``SRC`` checked (an argparse type); ``""`` is the installed mediadl."""
    if not text:
        return text
    path = Path(text)
    if (path / "mediadl").is_dir():
        return text
    below = path / "src"
    hint = f" (its src/ does: {below})" if (below / "mediadl").is_dir() else ""
    raise argparse.ArgumentTypeError(f"{text} holds no mediadl package{hint}")


def named(text: str) -> tuple[str, str]:
    """``NAME=SRC`` (an argparse type): a tree's name in the report, and its checked source."""
    name, equals, src = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=SRC")
    return name, source(src)
