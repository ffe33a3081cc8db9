"""The tiny interface of a fetcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mediadl.engine.fetch.growing import Growing
from mediadl.models import CancelToken, Format

__all__ = ["FetchItem", "FetchProgress", "Fetcher", "Unsupported"]

FetchProgress = Callable[[int, int | None, bool], None]
"""``(bytes_done, total_or_None, total_is_estimate)``, called at most a few times a second."""


@dataclass(frozen=True, slots=True)
class FetchItem:
    """One format of a download and where it goes."""

    fmt: Format
    dest: Path
    progress: FetchProgress | None = None
    resume: bool = False
    """Keep what is fetched when the download stops, and go on from what an earlier run kept
    (``dest`` itself: done; ``dest.part`` with its journal: the bytes in it)."""
    growing: Growing | None = None
    """Told of the bytes written in order as they are (segmented streams), and of the end:
    a reader (ffmpeg's feeder) follows the part while it is fetched."""


class Fetcher(Protocol):
    def fetch(
        self,
        fmt: Format,
        dest: Path,
        *,
        progress: FetchProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Write all of ``fmt`` to ``dest`` or raise; ``dest`` appears only when complete."""
        ...


class Unsupported(Exception):
    """This fetcher can't take this format after all (found out before writing a byte)."""
