"""mediadl's own request handler for yt-dlp, on public APIs only: the guard's fallback.

When ``yt_dlp.networking._urllib`` is missing or changed (or disabled with ``disable_internals``),
yt-dlp's requests still go through the egress guard, here: a ``RequestHandler`` (yt-dlp's public
way to add a handler: implement ``_send``) over the standard library's ``http.client``. Each
connection opens through :func:`~mediadl.engine.egress_ytdl.guarded_connect` (resolved, every
answer checked, the proxy's tunnel if one is set), every URL and redirect target is checked
before anything is sent, and bodies are bounded (decoded ones as what they expand to). One
connection per request, ``Connection: close``: simpler than a pool, and only a fallback.
"""

from __future__ import annotations

import http.client
import io
import ssl
import urllib.request
from typing import Any
from urllib.parse import urljoin, urlsplit

from yt_dlp.networking.common import Request, RequestHandler, Response
from yt_dlp.networking.exceptions import HTTPError, TransportError

from mediadl.engine.egress_ytdl import (
    Guard,
    GuardedRequests,
    GuardRefusal,
    bounded_read,
    decode_body,
    guarded_connect,
    require_guard,
)

__all__ = ["GuardedHTTPRH"]

MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIALS = frozenset({"cookie", "authorization"})


class _Connection(http.client.HTTPConnection):
    """An HTTP (or, with ``tls``, HTTPS) connection whose socket the guard opens."""

    def __init__(self, host: str, port: int | None, *, guard: Guard, tls: Any, timeout: float):
        super().__init__(host, port or (443 if tls else 80), timeout=timeout)
        self._guard = guard
        self._tls = tls

    def connect(self) -> None:
        sock = guarded_connect(self._guard)((self.host, self.port), self.timeout)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


class _PublicHTTPRH(RequestHandler):  # type: ignore[misc]
    """GET/POST over ``http.client``, redirects followed here (and checked by the guard)."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")
    _SUPPORTED_PROXY_SCHEMES = ()  # the proxy is the guard's; a request naming one is refused
    _SUPPORTED_FEATURES = ()
    guard: Guard | None = None

    def _check_extensions(self, extensions: dict[str, Any]) -> None:
        super()._check_extensions(extensions)
        for name in ("cookiejar", "timeout", "legacy_ssl", "keep_header_casing"):
            extensions.pop(name, None)

    def _send(self, request: Request) -> Response:
        guard = require_guard(self.guard)
        url, method, data = request.url, request.method, request.data
        headers = self._get_headers(request)
        for _ in range(MAX_REDIRECTS + 1):
            guard.check_url(url)
            response = self._once(request, url, method, data, headers)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                return self._finish(response, url, guard)
            response.close()
            target = urljoin(url, location)
            guard.check_url(target)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, data = ("HEAD" if method == "HEAD" else "GET"), None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            if urlsplit(target).hostname != urlsplit(url).hostname:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
            url = target
        raise TransportError(msg="too many redirects")

    def _once(
        self, request: Request, url: str, method: str, data: Any, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        parts = urlsplit(url)
        legacy = request.extensions.get("legacy_ssl")
        tls = self._make_sslcontext(legacy_ssl_support=legacy) if parts.scheme == "https" else None
        conn = _Connection(
            parts.hostname or "",
            parts.port,
            guard=require_guard(self.guard),
            tls=tls,
            timeout=self._calculate_timeout(request),
        )
        cookie_request = urllib.request.Request(url, method=method)
        self._get_cookiejar(request).add_cookie_header(cookie_request)
        sent = {**headers, **dict(cookie_request.header_items()), "Connection": "close"}
        sent["Accept-Encoding"] = _encodings(sent.pop("Accept-Encoding", None))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            conn.request(method, target, body=_body(data), headers=sent)
            response = conn.getresponse()
        except GuardRefusal:
            conn.close()
            raise
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            conn.close()
            raise TransportError(cause=exc) from exc
        self._get_cookiejar(request).extract_cookies(response, cookie_request)
        return response

    def _finish(self, response: http.client.HTTPResponse, url: str, guard: Guard) -> Response:
        codings = [
            c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",")
        ]
        codings = [c for c in codings if c and c != "identity"]
        fp: Any = response
        if codings:
            body = bounded_read(response, guard)
            response.close()
            for coding in reversed(codings):
                body = decode_body(coding, body, guard)
            fp = io.BytesIO(body)
        result = Response(
            fp=fp,
            url=url,
            headers=response.headers,
            status=response.status,
            reason=response.reason,
        )
        if not 200 <= response.status < 300:
            raise HTTPError(result, redirect_loop=False)
        return result


def _encodings(asked: str | None) -> str:
    """What the request may accept: as asked when every coding is one we decode (bounded)."""
    codings = {c.split(";")[0].strip().lower() for c in (asked or "").split(",") if c.strip()}
    if asked and codings <= {"gzip", "x-gzip", "deflate", "identity"}:
        return asked
    return "gzip, deflate"


def _body(data: Any) -> Any:
    if data is None or isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, io.IOBase) or hasattr(data, "read"):
        return data.read()
    return bytes(data)


class GuardedHTTPRH(GuardedRequests, _PublicHTTPRH):
    """The fallback handler yt-dlp is given (key ``GuardedHTTP``), bodies bounded as read."""
