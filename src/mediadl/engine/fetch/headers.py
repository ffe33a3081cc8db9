"""The request headers a format asks for: its ``http_headers`` and the cookies belonging to a URL.

The cookies come as records of the jar yt-dlp extracted with (``Format.cookies``), never as text
to parse. They go into a standard ``http.cookiejar.CookieJar``, which decides for each request URL
(redirects included) which of them to send: domain matching, path prefixes on ``/`` boundaries,
``Secure`` only over https, expiry, the standard rules. yt-dlp strips ``Cookie`` from
``http_headers`` so cookies don't leak to other hosts; a ``Cookie`` left there is dropped too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mediadl.engine.cookies import cookie_header, jar_of, without_cookie
from mediadl.models import CookieRecord, Format

__all__ = ["RequestHeaders"]


class RequestHeaders:
    """Headers for any URL of one format: ``headers(url)``."""

    def __init__(
        self, http_headers: Mapping[str, str], cookies: Sequence[CookieRecord] = ()
    ) -> None:
        self._base = without_cookie(http_headers)
        self._jar = jar_of(cookies) if cookies else None

    @classmethod
    def of(cls, fmt: Format) -> RequestHeaders:
        return cls(fmt.http_headers, fmt.cookies)

    def __call__(self, url: str) -> Mapping[str, str]:
        cookie = cookie_header(self._jar, url) if self._jar is not None else None
        if cookie is None:
            return self._base
        return {**self._base, "Cookie": cookie}
