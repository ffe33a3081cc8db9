"""Safe file names from titles that strangers write.

Letters of every script survive; path separators, control and bidi/format characters, characters
Windows forbids and names made only of dots do not; the name is capped in UTF-8 bytes.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping

__all__ = ["MAX_NAME_BYTES", "render_name", "safe_name"]

MAX_NAME_BYTES = 200
"""Cap for the whole name, extension included (most filesystems allow 255 bytes)."""

_FORBIDDEN = dict.fromkeys(map(ord, '/\\<>:"|?*'), "_")
_SPACES = re.compile(r"\s+")
_UNDERSCORES = re.compile(r"_{2,}")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


def safe_name(title: str, ext: str, *, fallback: str = "video") -> str:
    """``title`` + ``.ext`` as one safe path component, at most ``MAX_NAME_BYTES`` bytes."""
    suffix = "." + _clean(ext).strip(".")[:10] if ext else ""
    stem = _clean(title)
    if not stem.strip("._ "):
        stem = _clean(fallback) or "video"
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = _cut(stem, budget).rstrip(" .")
    if _WINDOWS_RESERVED.match(stem):
        stem = f"_{stem}"
    return f"{stem}{suffix}"


def render_name(template: str | None, fields: Mapping[str, object], ext: str) -> str:
    """Fill ``template`` (``{title}``, ``{id}``, …) with ``fields`` and make it safe.

    Unknown fields stay as written; a field's value can never add a path component. Around a
    field left empty, what would dangle goes: ``{title} ({quality})`` of a file without a height
    is ``Title``, ``({quality}, {site})`` becomes ``(site)``, ``{title} - {uploader}`` ``Title``.
    """
    text = str(fields.get("title") or "")
    if template:
        formatter = string.Formatter()
        pieces = []
        blank = False
        for literal, name, _spec, _conv in formatter.parse(template):
            pieces.append(literal)
            if name is not None:
                value = fields.get(name)
                value_text = str(value) if value is not None else ""
                blank = blank or not value_text
                pieces.append(value_text)
        text = _tidy("".join(pieces)) if blank else "".join(pieces)
    return safe_name(text, ext, fallback=str(fields.get("id") or "video"))


_OPENING_COMMA = re.compile(r"([(\[])\s*,\s*")
_CLOSING_COMMA = re.compile(r"\s*,\s*(?=[,)\]])")
_EMPTY_BRACKETS = re.compile(r"\s*(\(\s*\)|\[\s*\])")
_DANGLING_DASH = re.compile(r"\s+[-–—]\s*(?=\(|\[|$)")


def _tidy(text: str) -> str:
    """Commas, brackets and dashes that only framed an empty field, gone."""
    for pattern, replacement in (
        (_OPENING_COMMA, r"\1"),
        (_CLOSING_COMMA, ""),
        (_EMPTY_BRACKETS, ""),
        (_DANGLING_DASH, " "),
    ):
        text = pattern.sub(replacement, text)
    return text.strip()


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            kept.append(" " if category in ("Cc", "Zl", "Zp") else "")
        else:
            kept.append(char)
    text = "".join(kept).translate(_FORBIDDEN)
    text = _UNDERSCORES.sub("_", _SPACES.sub(" ", text)).strip(" ")
    return text.lstrip(". ")


def _cut(text: str, budget: int) -> str:
    data = text.encode()
    if len(data) <= budget:
        return text
    return data[:budget].decode("utf-8", "ignore")
