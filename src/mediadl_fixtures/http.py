"""Minimal HTTP/1.1 pieces: request parsing, byte ranges, validators, response heads."""

from __future__ import annotations

import asyncio
import email.utils
import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

MAX_REQUEST_BODY = 1 << 20
SERVER_NAME = "mediadl-fixtures"
UNSATISFIABLE = (-1, -1)
"""Sentinel returned by :func:`parse_range` for a range that can't be served (416)."""

_RANGE = re.compile(r"bytes\s*=\s*(\d*)\s*-\s*(\d*)", re.IGNORECASE)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    """Lower-cased names; repeated headers joined with ``, ``."""

    @property
    def path(self) -> str:
        """Percent-decoded path without query or fragment."""
        return unquote(urlsplit(self.target).path or "/")

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


async def read_request(reader: asyncio.StreamReader, idle: float) -> Request | None:
    """Next request on a connection; None on a clean EOF or idle timeout."""
    try:
        async with asyncio.timeout(idle):
            head = await reader.readuntil(b"\r\n\r\n")
    except TimeoutError:
        return None
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest(400, "truncated request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    request = parse_head(head.decode("latin-1"))
    await _discard_body(reader, request)
    return request


def parse_head(text: str) -> Request:
    lines = text.split("\r\n")
    while lines and not lines[0]:
        lines.pop(0)  # tolerate stray CRLFs between requests (RFC 9112 2.2)
    parts = lines[0].split(" ") if lines else []
    if len(parts) != 3 or not parts[1]:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise BadRequest(505, "only HTTP/1.0 and HTTP/1.1")
    headers: dict[str, str] = {}
    for line in filter(None, lines[1:]):
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, f"malformed header line {line!r}")
        key = name.lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return Request(method, target, version, headers)


async def _discard_body(reader: asyncio.StreamReader, request: Request) -> None:
    if "transfer-encoding" in request.headers:
        raise BadRequest(501, "request bodies with Transfer-Encoding are not supported")
    raw = request.headers.get("content-length", "0")
    if not raw.isdigit():
        raise BadRequest(400, "bad Content-Length")
    length = int(raw)
    if length > MAX_REQUEST_BODY:
        raise BadRequest(413, "request body too large")
    if length:
        await reader.readexactly(length)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range -> (first, last) inclusive; None = serve the whole body
    (no/malformed/multi-range header); :data:`UNSATISFIABLE` = answer 416."""
    if not header:
        return None
    m = _RANGE.fullmatch(header.strip())
    if not m or (not m[1] and not m[2]):
        return None
    if not m[1]:  # suffix: the last N bytes
        suffix = int(m[2])
        return (max(0, size - suffix), size - 1) if suffix and size else UNSATISFIABLE
    first = int(m[1])
    if m[2] and int(m[2]) < first:
        return None  # invalid syntax: ignore the header
    if first >= size:
        return UNSATISFIABLE
    return first, min(int(m[2]), size - 1) if m[2] else size - 1


def requested_range(
    headers: dict[str, str], size: int, etag: str, last_modified: float
) -> tuple[int, int] | None:
    """:func:`parse_range` of the ``Range`` header, unless ``If-Range`` vetoes it."""
    rng = headers.get("range")
    if_range = headers.get("if-range")
    if rng and if_range is not None and not if_range_ok(if_range, etag, last_modified):
        return None
    return parse_range(rng, size)


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """``If-None-Match`` (weak comparison) / ``If-Match``, ``If-Range`` (strong)."""
    for tag in _tags(header):
        if tag == "*":
            return True
        if weak and tag.removeprefix("W/") == etag.removeprefix("W/"):
            return True
        if not weak and not tag.startswith("W/") and tag == etag:
            return True
    return False


def if_range_ok(header: str, etag: str, last_modified: float) -> bool:
    """Whether ``If-Range`` lets the Range through (strong ETag or exact date)."""
    value = header.strip()
    if value.startswith(('"', "W/")):
        return etag_matches(value, etag, weak=False)
    date = parse_http_date(value)
    return date is not None and int(date) == int(last_modified)


def not_modified(headers: dict[str, str], etag: str, last_modified: float) -> bool:
    """Whether a GET/HEAD's conditionals call for 304."""
    inm = headers.get("if-none-match")
    if inm is not None:
        return etag_matches(inm, etag, weak=True)
    ims = headers.get("if-modified-since")
    date = parse_http_date(ims) if ims else None
    return date is not None and int(last_modified) <= int(date)


def response_head(status: int, headers: list[tuple[str, str]], *, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {http_date_now()}", f"Server: {SERVER_NAME}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def http_date_now() -> str:
    return email.utils.formatdate(usegmt=True)
