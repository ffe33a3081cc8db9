"""The tiny interface of a fetcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
    """Keep what an earlier, interrupted run left in ``dest.part`` and fetch only the rest
    (a progressive file's journaled ranges, a segmented stream's whole parts)."""


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
