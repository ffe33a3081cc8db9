"""Small, human renderings of sizes and durations."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from mediadl.cli.progress_view import ItemStats

__all__ = ["human_duration", "human_size", "plain", "saved_text"]


def plain(text: str | None) -> str:
    """``text`` without control or bidi characters, safe to print on a terminal."""
    return "".join(c for c in text or "" if unicodedata.category(c) not in ("Cc", "Cf"))


def human_size(size: int | float | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def saved_text(path: Path | None, stats: ItemStats | None) -> Text:
    """``saved NAME  12.3 MB in 0:04 (3.1 MB/s)``: what the item came to, how long, how fast."""
    text = Text.assemble(("saved", "green"), " ", str(path or ""))
    try:
        size = path.stat().st_size if path else None
    except OSError:
        size = None
    facts = []
    if size is not None:
        facts.append(human_size(size))
    if stats is not None:
        facts.append(f"in {_seconds(stats.seconds)}")
        if size and stats.seconds > 0:
            facts.append(f"({human_size(size / stats.seconds)}/s)")
    if facts:
        text.append("  " + " ".join(facts), style="dim")
    return text


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 60 else human_duration(value)
