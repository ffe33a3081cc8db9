"""The page's files, read once from the package and answered with caching headers.

Static files live under ``/static/<version>/…`` where ``version`` is a hash of them all: their
links change whenever any file does, so browsers may keep them for a year without asking
(relative ``import``s between the ES modules stay inside the same version). Every answer carries
an ``ETag`` and honours ``If-None-Match``; text is gzipped once, up front, for clients that take it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["IMMUTABLE", "REVALIDATE", "Asset", "Bundle", "asset_response", "bundle"]

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_COMPRESSIBLE = (".css", ".js", ".json", ".webmanifest", ".svg", ".html")
_MIN_GZIP = 512


@dataclass(frozen=True, slots=True)
class Asset:
    """One response body, its gzipped form (when worth it) and its validator."""

    body: bytes
    media_type: str
    etag: str
    gzipped: bytes | None = None

    @classmethod
    def make(cls, body: bytes, media_type: str, *, compress: bool = True) -> Asset:
        digest = hashlib.sha256(body).hexdigest()[:20]
        packed = gzip.compress(body, compresslevel=9, mtime=0) if compress else None
        if packed is not None and (len(body) < _MIN_GZIP or len(packed) >= len(body)):
            packed = None
        return cls(body, media_type, f'"{digest}"', packed)


@dataclass(frozen=True, slots=True)
class Bundle:
    """Every static file by its path under ``static/``, and their common version."""

    files: dict[str, Asset]
    version: str

    @property
    def base(self) -> str:
        return f"/static/{self.version}"


@functools.cache
def bundle() -> Bundle:
    """The static files of the installed package (read once per process)."""
    root = resources.files("mediadl.web") / "static"
    files: dict[str, Asset] = {}
    for path, entry in _walk(root, ""):
        suffix = path[path.rfind(".") :] if "." in path else ""
        media_type = _TYPES.get(suffix, "application/octet-stream")
        files[path] = Asset.make(entry.read_bytes(), media_type, compress=suffix in _COMPRESSIBLE)
    overall = hashlib.sha256()
    for path in sorted(files):
        overall.update(path.encode() + b"\0" + files[path].etag.encode())
    return Bundle(files, overall.hexdigest()[:12])


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            found.extend(_walk(entry, name + "/"))
        elif not entry.name.startswith("."):
            found.append((name, entry))
    return found


def asset_response(
    request: Request,
    asset: Asset,
    *,
    cache_control: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """``asset`` for ``request``: 304 when the client has it, gzipped when it accepts that."""
    common = {
        "Cache-Control": cache_control,
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        **(headers or {}),
    }
    if _matches(request.headers.get("if-none-match"), asset.etag):
        return Response(status_code=304, headers=common)
    body = asset.body
    if asset.gzipped is not None and _accepts_gzip(request.headers.get("accept-encoding")):
        body = asset.gzipped
        common["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        common["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=common, media_type=asset.media_type)
    return Response(body, headers=common, media_type=asset.media_type)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _accepts_gzip(header: str | None) -> bool:
    for item in (header or "").split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() != "gzip":
            continue
        name, _, value = params.partition("=")
        if name.strip().lower() != "q":
            return True
        try:
            return float(value) > 0
        except ValueError:
            return False
    return False
