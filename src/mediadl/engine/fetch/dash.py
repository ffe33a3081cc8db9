"""DASH segment lists, as yt-dlp parsed them from the MPD, read into the ordered parts to fetch.

yt-dlp puts the initialization segment first in ``fragments``; each fragment has a ``url`` or a
``path`` relative to ``fragment_base_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediadl import errors
from mediadl.engine.fetch.base import Unsupported
from mediadl.engine.fetch.hls import with_query
from mediadl.engine.fetch.segments import Part, web_link

__all__ = ["dash_parts"]


def dash_parts(raw: Mapping[str, Any]) -> list[Part]:
    """The parts of a ``http_dash_segments`` format; ``Unsupported`` for live or generated lists."""
    fragments = raw.get("fragments")
    if raw.get("is_live") or raw.get("is_from_start") or not isinstance(fragments, list):
        raise Unsupported("a live DASH stream or one whose segment list is generated")
    base = raw.get("fragment_base_url") or raw.get("url") or ""
    extra = raw.get("extra_param_to_segment_url")
    parts = []
    for number, fragment in enumerate(fragments, start=1):
        if not isinstance(fragment, Mapping):
            raise errors.ContentInvalid("The stream's segment list is malformed.")
        reference = fragment.get("url") or fragment.get("path")
        if not reference:
            raise errors.ContentInvalid("A segment of the stream has no address.")
        url = web_link(str(base), str(reference))
        parts.append(
            Part(with_query(url, extra if isinstance(extra, str) else None), label=str(number))
        )
    if not parts:
        raise errors.ContentInvalid("The stream's segment list is empty.")
    return parts
