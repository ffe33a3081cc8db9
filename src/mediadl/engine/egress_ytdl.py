"""The egress guard inside yt-dlp's networking: every connection, every redirect, every body.

yt-dlp sends all its HTTP through a ``RequestDirector`` of request handlers (urllib always;
requests/urllib3 when installed; curl_cffi and websockets when installed). :func:`install_guard`
gives one ``YoutubeDL`` a director of its own with only our two subclasses of the first two,
so no other handler (websockets, curl_cffi) and no proxy from the environment is ever used:

* the socket: both handlers open connections through :func:`guarded_connect`, which resolves the
  host, checks every answer with :meth:`EgressPolicy.check_peer` and only then connects to the
  checked address — DNS answers, rebinding and redirects can't lead anywhere unchecked;
* the URL: every request and every redirect target is checked first (``http``/``https`` only, and
  a host written as an address in any notation), so a refusal happens before any connection;
* the body: :class:`BoundedResponse` counts the bytes each response gives (decoded: a gzip bomb
  counts as what it expands to) and stops at ``response_limit`` (a page or manifest) and
  ``total_limit`` (all bytes of one ``YoutubeDL``, e.g. the fragments of a download).

A refusal travels through yt-dlp as :class:`GuardRefusal` (a ``RequestError``, which yt-dlp's
director re-raises as is) and is also kept on the :class:`Guard`, so the engine reports it as
``link.forbidden`` / ``content.too_large`` even when an extractor swallowed the exception.
"""

from __future__ import annotations

import socket
import threading
import urllib.request
import urllib.response
import zlib
from dataclasses import dataclass, field
from typing import Any

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
from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import RequestError

from mediadl import errors
from mediadl.engine.egress import EgressPolicy

__all__ = [
    "BoundedResponse",
    "Guard",
    "GuardRefusal",
    "GuardedRequests",
    "guard_of",
    "guarded_connect",
    "install_guard",
    "require_guard",
]

READ_CHUNK = 1 << 16


class GuardRefusal(RequestError):  # type: ignore[misc]
    """A refusal on its way through yt-dlp; ``error`` is what the person sees."""

    def __init__(self, error: errors.MediadlError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(eq=False)
class Guard:
    """The egress policy and byte limits of one ``YoutubeDL``, and the first refusal it made."""

    policy: EgressPolicy
    response_limit: int | None = None
    """Most bytes one response may give (a page, a manifest); ``None``: no limit."""
    total_limit: int | None = None
    """Most bytes all responses together may give; ``None``: no limit."""
    received: int = 0
    refused: errors.MediadlError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, error: errors.MediadlError) -> GuardRefusal:
        with self._lock:
            self.refused = self.refused or error
        return GuardRefusal(error)

    def check_url(self, url: str) -> None:
        try:
            self.policy.check_url(url)
        except errors.LinkForbidden as exc:
            raise self.refuse(exc) from None

    def count(self, response_bytes: int, added: int) -> None:
        with self._lock:
            self.received += added
            total = self.received
        if self.response_limit is not None and response_bytes > self.response_limit:
            raise self.refuse(
                errors.ContentTooLarge(
                    "The site sent a page or playlist far larger than this server reads.",
                    limit=self.response_limit,
                )
            )
        if self.total_limit is not None and total > self.total_limit:
            raise self.refuse(errors.ContentTooLarge(limit=self.total_limit))


def guarded_connect(guard: Guard) -> Any:
    """A ``create_connection`` that resolves, checks every address, then connects to it."""

    def connect(
        address: tuple[str, int],
        timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: Any = None,
        *_args: Any,
        **_kwargs: Any,
    ) -> socket.socket:
        host, port = address
        try:
            answers = guard.policy.resolve(host, port)
        except errors.LinkForbidden as exc:
            raise guard.refuse(exc) from None
        except UnicodeError as exc:
            raise OSError(f"bad host name {host!r}") from exc
        return _connect_first(answers, timeout, source_address)

    return connect


def _connect_first(answers: list[Any], timeout: Any, source: Any) -> socket.socket:
    """Connect to the first of the (already checked) addresses that answers."""
    last: OSError | None = None
    for answer in answers:
        family, kind, proto, _name, sockaddr = answer
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source:
                sock.bind(source)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError("no address to connect to")


class BoundedResponse(Response):  # type: ignore[misc]
    """A response whose reads count against the guard's limits."""

    def __init__(self, inner: Any, guard: Guard) -> None:
        super().__init__(
            fp=inner.fp,
            url=inner.url,
            headers=inner.headers,
            status=inner.status,
            reason=inner.reason,
            extensions=inner.extensions,
        )
        self._inner = inner
        self._guard = guard
        self._read = 0

    def read(self, amt: int | None = None) -> bytes:
        if amt is None or amt < 0:
            parts = []
            while chunk := self.read(READ_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        data: bytes = self._inner.read(amt)
        self._read += len(data)
        self._guard.count(self._read, len(data))
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._inner.close()
        super().close()

    @property
    def closed(self) -> bool:
        return bool(self._inner.closed)


# --- urllib ---------------------------------------------------------------------------------


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
        import http.client

        return self.do_open(self._factory(http.client.HTTPConnection, req), req)

    def https_open(self, req: Any) -> Any:
        import http.client

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
        body = _bounded_read(resp, self._guard)
        for coding in reversed(codings):
            body = _decode(coding, body, self._guard)
        decoded: Any = urllib.response.addinfourl(_io(body), resp.headers, resp.url, resp.code)
        decoded.msg = resp.msg
        return decoded

    https_request = http_request
    https_response = http_response


def _bounded_read(resp: Any, guard: Guard) -> bytes:
    limit = guard.response_limit
    data = resp.read(limit + 1) if limit is not None else resp.read()
    if limit is not None and len(data) > limit:
        guard.count(len(data), 0)
    return bytes(data)


def _decode(coding: str, data: bytes, guard: Guard) -> bytes:
    wbits = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": -zlib.MAX_WBITS}
    if coding not in wbits or not data:
        return data if not data else _unknown_coding(coding, guard)
    limit = guard.response_limit
    decoder = zlib.decompressobj(wbits[coding])
    try:
        out = decoder.decompress(data, (limit + 1) if limit is not None else 0)
    except zlib.error:
        if coding != "deflate":
            raise
        out = zlib.decompressobj().decompress(data, (limit + 1) if limit is not None else 0)
    if limit is not None and len(out) > limit:
        guard.count(len(out), 0)
    return out


def _unknown_coding(coding: str, guard: Guard) -> bytes:
    raise guard.refuse(
        errors.ContentInvalid(f"The site sent data in an unknown coding ({coding}).")
    )


def _io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


class _GuardedRedirects(RedirectHandler):  # type: ignore[misc]
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self._guard = guard

    def http_error_302(self, req: Any, fp: Any, code: Any, msg: Any, headers: Any) -> Any:
        """Check where a redirect leads before urllib looks at it (any scheme, any notation)."""
        from urllib.parse import urljoin

        location = headers.get("location") or headers.get("uri")
        if location:
            try:
                self._guard.check_url(urljoin(req.full_url, location))
            except GuardRefusal:
                fp.close()
                raise
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class GuardedRequests:
    """Mixed into a yt-dlp request handler: each URL is checked before it is sent, each body is
    bounded as it is read."""

    guard: Guard | None = None

    def _check_url_scheme(self, request: Any) -> Any:
        require_guard(self.guard).check_url(request.url)
        return super()._check_url_scheme(request)  # type: ignore[misc]

    def _send(self, request: Any) -> Any:
        guard = require_guard(self.guard)
        guard.check_url(request.url)
        return BoundedResponse(super()._send(request), guard)  # type: ignore[misc]


class GuardedUrllibRH(GuardedRequests, UrllibRH):  # type: ignore[misc]
    """yt-dlp's urllib handler, http(s) only, every connection and body through the guard."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")

    def _create_instance(self, proxies: Any, cookiejar: Any, legacy_ssl_support: Any = None) -> Any:
        guard = require_guard(self.guard)
        opener = urllib.request.OpenerDirector()
        context = self._make_sslcontext(legacy_ssl_support=legacy_ssl_support)
        for handler in (
            ProxyHandler(proxies),
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


def require_guard(guard: Guard | None) -> Guard:
    if guard is None:  # fail closed: a handler without its guard sends nothing
        raise GuardRefusal(errors.LinkForbidden(detail="no egress guard installed"))
    return guard


def _handlers() -> list[type[Any]]:
    handlers: list[type[Any]] = [GuardedUrllibRH]
    try:
        from mediadl.engine.egress_requests import GuardedRequestsRH
    except ImportError:  # requests/urllib3 aren't installed: urllib carries everything
        return handlers
    return [*handlers, GuardedRequestsRH]


def install_guard(ydl: Any, guard: Guard) -> None:
    """Give ``ydl`` a request director of guarded handlers only; call before its first request."""
    director = ydl.build_request_director(_handlers())
    for handler in director.handlers.values():
        handler.guard = guard
    ydl._request_director = director
    ydl._mediadl_guard = guard


def guard_of(ydl: Any) -> Guard | None:
    guard = getattr(ydl, "_mediadl_guard", None)
    return guard if isinstance(guard, Guard) else None
