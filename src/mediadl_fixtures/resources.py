"""What a URL path maps to: a generated file or a rendered page; plus request stats."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import pages
from .media import MediaSet

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".jpg": "image/jpeg",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mpd": "application/dash+xml",
    ".bin": "application/octet-stream",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
}
LOG_LIMIT = 10_000


@dataclass(frozen=True)
class Resource:
    content_type: str
    size: int
    etag: str
    mtime: float
    file: Path | None = None
    data: bytes | None = None


def resolve(media: MediaSet, path: str, base: str) -> Resource | None:
    """The resource at a (prefix-free, decoded) URL path, or None (404).

    ``base`` is the absolute URL (with knob prefix) that pages render their links from.
    """
    name = pages.BY_PATH.get(path)
    created = float(media.info.get("created", 0.0))
    if name is not None:
        body, ctype = pages.render(name, pages.Ctx(base, media))
        etag = '"p-' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20] + '"'
        return Resource(ctype, len(body), etag, created, data=body)
    parts = PurePosixPath(path).parts[1:]
    if not parts or any(p in ("..", ".") or "\0" in p or "\\" in p for p in parts):
        return None
    target = media.site_dir.joinpath(*parts)
    if not target.is_file():
        return None
    st = target.stat()
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    ctype = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
    return Resource(ctype, st.st_size, etag, st.st_mtime, file=target)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    """Without the knob prefix."""
    prefix: str
    status: int
    range: str | None
    cookies: tuple[str, ...] = ()
    """Names of the cookies the request sent (values stay out of the log)."""


@dataclass
class SiteStats:
    """Counters since start or the last ``reset_counters()``.

    ``bytes_sent`` counts body bytes; ``requests`` is keyed by path without knob prefix.
    """

    connections_opened: int = 0
    peak_connections: int = 0
    """The most connections open at once."""
    requests_total: int = 0
    bytes_sent: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    log: list[RequestRecord] = field(default_factory=list)
    """The last requests (at most 10,000), oldest first."""

    def record(self, rec: RequestRecord) -> None:
        self.requests_total += 1
        self.requests[rec.path] += 1
        self.statuses[rec.status] += 1
        self.log.append(rec)
        if len(self.log) > LOG_LIMIT:
            del self.log[: len(self.log) - LOG_LIMIT]

    def snapshot(self) -> SiteStats:
        return SiteStats(
            self.connections_opened,
            self.peak_connections,
            self.requests_total,
            self.bytes_sent,
            Counter(self.requests),
            Counter(self.statuses),
            list(self.log),
        )
