"""The request headers a format asks for: its ``http_headers`` plus the cookies scoped to a URL.

yt-dlp hands cookies over as one string in Set-Cookie syntax (``a=1; Domain=.x.com; Path=/;
Secure; b=2; ...``) and strips ``Cookie`` from ``http_headers`` so cookies never leak to other
hosts. We send each cookie only where its domain, path and ``Secure`` flag allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Cookie", "RequestHeaders", "parse_cookies"]

_ATTRIBUTES = frozenset(
    {
        "domain",
        "path",
        "secure",
        "expires",
        "version",
        "max-age",
        "httponly",
        "samesite",
        "comment",
        "port",
        "discard",
    }
)


@dataclass(slots=True)
class Cookie:
    name: str
    value: str
    domain: str | None = None
    path: str = "/"
    secure: bool = False

    def matches(self, host: str, path: str, https: bool) -> bool:
        if self.secure and not https:
            return False
        domain = (self.domain or "").lstrip(".").lower()
        if domain and host != domain and not host.endswith("." + domain):
            return False
        return path.startswith(self.path or "/")


def parse_cookies(text: str) -> list[Cookie]:
    """Cookies from yt-dlp's ``cookies`` field."""
    cookies: list[Cookie] = []
    for token in text.split(";"):
        name, sep, value = token.strip().partition("=")
        key = name.strip().lower()
        if not key:
            continue
        if key in _ATTRIBUTES and cookies:
            _apply(cookies[-1], key, value.strip())
        elif sep:
            cookies.append(Cookie(name.strip(), value.strip()))
    return cookies


def _apply(cookie: Cookie, key: str, value: str) -> None:
    if key == "domain":
        cookie.domain = value or None
    elif key == "path":
        cookie.path = value or "/"
    elif key == "secure":
        cookie.secure = True


class RequestHeaders:
    """Headers for any URL of one format."""

    def __init__(self, http_headers: Mapping[str, str], cookies: str | None = None) -> None:
        self._base = {k: v for k, v in http_headers.items() if k.lower() != "cookie"}
        self._cookies = parse_cookies(cookies) if cookies else []

    def __call__(self, url: str) -> Mapping[str, str]:
        if not self._cookies:
            return self._base
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path or "/"
        https = parts.scheme == "https"
        jar = [c for c in self._cookies if c.matches(host, path, https)]
        if not jar:
            return self._base
        return {**self._base, "Cookie": "; ".join(f"{c.name}={c.value}" for c in jar)}
