"""The egress guard in yt-dlp's urllib handler (a private module: imported through the registry).

``yt_dlp.networking._urllib`` gives yt-dlp's own handling of TLS, cookies, redirects and
encodings; mediadl subclasses it so that sockets open through
:func:`~mediadl.engine.egress_ytdl.guarded_connect`, URLs and redirect targets are checked first
and decompression is bounded. When the module is missing or changed,
:mod:`mediadl.engine.egress_public` carries yt-dlp's requests instead, under the same guard.
"""

from __future__ import annotations

import http.client
import io
import urllib.request
import urllib.response
from typing import Any
from urllib.parse import urljoin

from yt_dlp.networking._urllib import (
    HTTPCookieProcessor,
    HTTPDefaultErrorHandler,
    HTTPErrorProcessor,
    ProxyHandler,
    RedirectHandler,
    UnknownHandler,
    UrllibRH,
    _create_http_connection,
)
from yt_dlp.networking._urllib import HTTPHandler as _YtdlpHTTPHandler

from mediadl.engine.egress_ytdl import (
    Guard,
    GuardedRequests,
    GuardRefusal,
    bounded_read,
    decode_body,
    guarded_connect,
    require_guard,
)

__all__ = ["GuardedUrllibRH"]


class _GuardedHTTPHandler(_YtdlpHTTPHandler):  # type: ignore[misc]
    """yt-dlp's handler with guarded sockets, checked URLs and bounded decompression."""

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._guard = guard

    def _factory(self, base: Any, req: Any) -> Any:
        connect = guarded_connect(self._guard)
        conn_class = self._make_conn_class(base, req)

        def make(*args: Any, **kwargs: Any) -> Any:
            conn = _create_http_connection(conn_class, self._source_address, *args, **kwargs)
            conn._create_connection = connect
            return conn

        return make

    def http_open(self, req: Any) -> Any:
        return self.do_open(self._factory(http.client.HTTPConnection, req), req)

    def https_open(self, req: Any) -> Any:
        factory = self._factory(http.client.HTTPSConnection, req)
        return self.do_open(factory, req, context=self._context)

    def http_request(self, req: Any) -> Any:
        self._guard.check_url(req.get_full_url())
        return super().http_request(req)

    def http_response(self, req: Any, resp: Any) -> Any:
        codings = [c.strip().lower() for c in resp.headers.get("Content-Encoding", "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if not codings:
            return resp
        body = bounded_read(resp, self._guard)
        for coding in reversed(codings):
            body = decode_body(coding, body, self._guard)
        fp = io.BytesIO(body)
        decoded: Any = urllib.response.addinfourl(fp, resp.headers, resp.url, resp.code)
        decoded.msg = resp.msg
        return decoded

    https_request = http_request
    https_response = http_response


class _GuardedRedirects(RedirectHandler):  # type: ignore[misc]
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self._guard = guard

    def http_error_302(self, req: Any, fp: Any, code: Any, msg: Any, headers: Any) -> Any:
        """Check where a redirect leads before urllib looks at it (any scheme, any notation)."""
        location = headers.get("location") or headers.get("uri")
        if location:
            try:
                self._guard.check_url(urljoin(req.full_url, location))
            except GuardRefusal:
                fp.close()
                raise
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class GuardedUrllibRH(GuardedRequests, UrllibRH):  # type: ignore[misc]
    """yt-dlp's urllib handler, http(s) only, every connection and body through the guard."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")
    _SUPPORTED_PROXY_SCHEMES = ()  # a request naming a proxy of its own is refused: fail closed

    def _create_instance(self, proxies: Any, cookiejar: Any, legacy_ssl_support: Any = None) -> Any:
        guard = require_guard(self.guard)
        opener = urllib.request.OpenerDirector()
        context = self._make_sslcontext(legacy_ssl_support=legacy_ssl_support)
        for handler in (
            ProxyHandler({}),  # the proxy is the guard's (a tunnel under the socket)
            _GuardedHTTPHandler(guard, context=context, source_address=self.source_address),
            HTTPCookieProcessor(cookiejar),
            UnknownHandler(),
            HTTPDefaultErrorHandler(),
            HTTPErrorProcessor(),
            _GuardedRedirects(guard),
        ):
            opener.add_handler(handler)
        opener.addheaders = []
        return opener
