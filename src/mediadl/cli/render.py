"""Small, human renderings of sizes and durations."""

from __future__ import annotations

import unicodedata

__all__ = ["human_duration", "human_size", "plain"]


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
