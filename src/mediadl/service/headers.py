"""HTTP header values a download needs: names, types, sizes and byte ranges."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "ByteRange",
    "bounded_int",
    "content_disposition",
    "media_type",
    "parse_range",
]

_MEDIA_TYPES = {
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "aac": "audio/aac",
    "weba": "audio/webm",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.I | re.ASCII)
_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\/%;*?<>|:]')
BEYOND_ANY_SIZE = 1 << 63
"""Where header numbers stop counting: more than any file or body holds."""


def media_type(ext: str) -> str:
    return _MEDIA_TYPES.get(ext.lower(), "application/octet-stream")


@functools.lru_cache(maxsize=1024)
def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients and an RFC 5987 ``filename*`` in UTF-8.
    Kept per name: every tunnel of a link sends the same one."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    fallback = _ascii(stem) or "download"
    if _ascii(ext):
        fallback += "." + _ascii(ext)
    kind = "inline" if inline else "attachment"
    value = f'{kind}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"\s{2,}", " ", _UNSAFE_ASCII.sub("_", folded))
    return re.sub(r"_{2,}", "_", text).strip(" ._")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """One ``bytes=`` range as asked: ``first-last``, ``first-`` or ``-suffix``."""

    first: int | None
    last: int | None

    def resolve(self, total: int) -> tuple[int, int] | None:
        """``(start, end)`` (end exclusive) in a resource of ``total`` bytes; ``None``: can't."""
        if self.first is None:
            suffix = self.last or 0
            if suffix == 0 or total == 0:
                return None
            return max(0, total - suffix), total
        if self.first >= total:
            return None
        end = total if self.last is None else min(self.last + 1, total)
        return self.first, end


def parse_range(header: str | None) -> ByteRange | None:
    """A single byte range, or ``None`` (absent, malformed or several: serve the whole file)."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None or not (match.group(1) or match.group(2)):
        return None
    first = bounded_int(match.group(1)) if match.group(1) else None
    last = bounded_int(match.group(2)) if match.group(2) else None
    if first is not None and last is not None and last < first:
        return None
    return ByteRange(first, last)


def bounded_int(digits: str | bytes) -> int:
    """The number ``digits`` (ASCII digits, checked by the caller) says, at most
    :data:`BEYOND_ANY_SIZE`: a stranger's 5,000 digits mean "more than anything", not a 500
    (``int()`` refuses over 4,300 digits) nor seconds of arithmetic."""
    text = digits.decode("ascii") if isinstance(digits, bytes) else digits
    text = text.lstrip("0") or "0"
    if len(text) > len(str(BEYOND_ANY_SIZE)):
        return BEYOND_ANY_SIZE
    return min(int(text), BEYOND_ANY_SIZE)
