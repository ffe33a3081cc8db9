"""The egress guard inside yt-dlp's networking: every connection, every redirect, every body.

yt-dlp sends all its HTTP through a ``RequestDirector`` of request handlers (urllib always;
requests/urllib3 when installed; curl_cffi and websockets when installed). :func:`install_guard`
gives one ``YoutubeDL`` a director of its own with only guarded handlers — our subclasses of the
first two (:mod:`~mediadl.engine.egress_urllib`, :mod:`~mediadl.engine.egress_requests`), or,
when those private modules are missing, changed or disabled, mediadl's own handler on yt-dlp's
public API (:mod:`~mediadl.engine.egress_public`) — so no other handler (websockets, curl_cffi)
and no proxy from the environment is ever used. Each private name is declared in
:mod:`~mediadl.engine.internals`; the fallbacks are guarded the same way, never open:

* the socket: every handler opens connections through :func:`guarded_connect`, which resolves the
  host, checks every answer with :meth:`EgressPolicy.check_peer` and only then connects to the
  checked address — DNS answers, rebinding and redirects can't lead anywhere unchecked. With the
  ``proxy`` setting it then checks the proxy's address too and opens a tunnel through the proxy
  to the checked address (:mod:`~mediadl.engine.proxy`);
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

import importlib
import importlib.util
import logging
import socket
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import RequestError

from mediadl import errors
from mediadl.engine import internals
from mediadl.engine.egress import EgressPolicy
from mediadl.engine.preload import AHEAD
from mediadl.engine.proxy import Proxy, proxy_addresses, tunnel

__all__ = [
    "BoundedResponse",
    "Guard",
    "GuardRefusal",
    "GuardedDirector",
    "GuardedRequests",
    "bounded_read",
    "decode_body",
    "guard_of",
    "guarded_connect",
    "install_guard",
    "require_guard",
    "warm_tls",
    "warm_tls_aside",
]

log = logging.getLogger("mediadl.engine")

READ_CHUNK = 1 << 16

URLLIB = internals.declare(
    "yt_dlp.networking._urllib",
    "yt-dlp's urllib request handler (TLS, cookies, redirects, encodings), subclassed so that "
    "its sockets, URLs, redirects and bodies go through the egress guard",
    "mediadl's own guarded handler over http.client, on yt-dlp's public networking API",
)
REQUESTS = internals.declare(
    "yt_dlp.networking._requests",
    "yt-dlp's requests/urllib3 handler (kept-alive connections), subclassed like the urllib one",
    "the guarded urllib handler (or mediadl's own) carries every request",
)
DIRECTOR = internals.declare(
    "yt_dlp.YoutubeDL._request_director",
    "install the guarded request handlers before a YoutubeDL's first request",
    "YoutubeDL.build_request_director (public) overridden to build guarded handlers only",
)


TLS = internals.declare(
    "yt_dlp.networking.common.RequestHandler._make_sslcontext",
    "one TLS context per process and set of TLS options for yt-dlp's requests: loading the CA "
    "bundle costs ~30 ms per handler, paid once by the warm parent extractions are forked from",
    "a new TLS context for each request handler, as yt-dlp makes it",
)
_TLS_CONTEXTS: dict[tuple[Any, ...], Any] = {}
_TLS_LOCK = threading.Lock()


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
    proxy: Proxy | None = None
    """The operator's proxy: connections tunnel through it, after the same checks."""
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
        if guard.proxy is not None and guard.proxy.applies(host):
            dest = host if guard.proxy.remote_dns else str(answers[0][4][0])
            return _through_proxy(guard, guard.proxy, (dest, port), timeout)
        return _connect_first(answers, timeout, source_address)

    return connect


def _through_proxy(
    guard: Guard, proxy: Proxy, target: tuple[str, int], timeout: Any
) -> socket.socket:
    """A tunnel to ``target`` (the checked address; the name for socks5h) through the checked
    proxy; what goes wrong with the proxy is the proxy's error, not the site's."""
    dest, port = target
    default = socket._GLOBAL_DEFAULT_TIMEOUT  # type: ignore[attr-defined]
    seconds = None if timeout is default else timeout
    try:
        addresses = proxy_addresses(guard.policy, proxy)
    except errors.ProxyError as exc:
        raise guard.refuse(exc) from None
    failure: errors.ProxyError | None = None
    for address in addresses:
        try:
            return tunnel(proxy, address, dest, port, seconds)
        except errors.ProxyError as exc:
            failure = exc
    raise guard.refuse(failure or errors.ProxyFailed(proxy=proxy.shown))


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


def bounded_read(resp: Any, guard: Guard) -> bytes:
    limit = guard.response_limit
    data = resp.read(limit + 1) if limit is not None else resp.read()
    if limit is not None and len(data) > limit:
        guard.count(len(data), 0)
    return bytes(data)


def decode_body(coding: str, data: bytes, guard: Guard) -> bytes:
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


class GuardedRequests:
    """Mixed into a yt-dlp request handler: each URL is checked before it is sent, each body is
    bounded as it is read."""

    guard: Guard | None = None
    verify: Any
    prefer_system_certs: Any
    legacy_ssl_support: Any
    _client_cert: Any
    """yt-dlp's handler's TLS options (set by its ``RequestHandler``)."""

    def _check_url_scheme(self, request: Any) -> Any:
        require_guard(self.guard).check_url(request.url)
        return super()._check_url_scheme(request)  # type: ignore[misc]

    def _send(self, request: Any) -> Any:
        guard = require_guard(self.guard)
        guard.check_url(request.url)
        return BoundedResponse(super()._send(request), guard)  # type: ignore[misc]

    def _make_sslcontext(self, legacy_ssl_support: Any = None) -> Any:
        """yt-dlp's TLS context, made once per process for each set of TLS options (a context
        serves any number of connections; the CA bundle is read once)."""
        parent = super()._make_sslcontext  # type: ignore[misc]
        if not TLS.usable():
            return parent(legacy_ssl_support=legacy_ssl_support)
        try:
            legacy = self.legacy_ssl_support if legacy_ssl_support is None else legacy_ssl_support
            client = sorted(self._client_cert.items())
            key = (self.verify, self.prefer_system_certs, bool(legacy), repr(client))
        except (AttributeError, TypeError) as exc:
            TLS.fell_back(exc)
            return parent(legacy_ssl_support=legacy_ssl_support)
        with _TLS_LOCK:
            context = _TLS_CONTEXTS.get(key)
            if context is None:
                context = _TLS_CONTEXTS[key] = parent(legacy_ssl_support=legacy_ssl_support)
        TLS.worked()
        return context


def require_guard(guard: Guard | None) -> Guard:
    if guard is None:  # fail closed: a handler without its guard sends nothing
        raise GuardRefusal(errors.LinkForbidden(detail="no egress guard installed"))
    return guard


def _handlers() -> list[type[Any]]:
    """The guarded handlers: yt-dlp's own (subclassed) while they work, else mediadl's own."""
    handlers: list[type[Any]] = []
    if URLLIB.usable():
        try:
            handlers.append(_module("egress_urllib").GuardedUrllibRH)
            URLLIB.worked()
        except (ImportError, AttributeError) as exc:
            URLLIB.fell_back(exc)
    if REQUESTS.usable() and importlib.util.find_spec("requests") is not None:
        try:
            handlers.append(_module("egress_requests").GuardedRequestsRH)
            REQUESTS.worked()
        except (ImportError, AttributeError) as exc:
            REQUESTS.fell_back(exc)
    if not URLLIB.usable() or not handlers:
        handlers.append(_module("egress_public").GuardedHTTPRH)
    return handlers


def _module(name: str) -> Any:
    return importlib.import_module(f"mediadl.engine.{name}")


class GuardedDirector:
    """Mixed into ``YoutubeDL``: whenever yt-dlp builds a request director, it gets the guarded
    handlers only, whatever it asked for (the public way in; a ``YoutubeDL`` without a guard
    sends nothing)."""

    def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
        guard = require_guard(guard_of(self))
        builder = super().build_request_director  # type: ignore[misc]
        director = builder(_handlers(), preferences)
        for handler in director.handlers.values():
            handler.guard = guard
        return director


def install_guard(ydl: Any, guard: Guard) -> None:
    """Put ``ydl``'s requests under ``guard``; call before its first request.

    The director of guarded handlers is set at once (a private attribute); without it, a
    :class:`GuardedDirector` builds that director itself on first use. Neither: nothing is sent.
    """
    ydl._mediadl_guard = guard
    if DIRECTOR.usable() and "_request_director" not in dir(type(ydl)):
        DIRECTOR.fell_back("YoutubeDL has no _request_director")
    if DIRECTOR.usable():
        try:
            director = ydl.build_request_director(_handlers())
            for handler in director.handlers.values():
                handler.guard = guard
            ydl._request_director = director
            DIRECTOR.worked()
            return
        except AttributeError as exc:
            DIRECTOR.fell_back(exc)
    if not isinstance(ydl, GuardedDirector):
        raise GuardRefusal(errors.LinkForbidden(detail="no way to install the egress guard"))


def warm_tls(ydl: Any) -> None:
    """Make the TLS context ``ydl``'s requests will use (each later one shares it): the warm
    parent pays for reading the CA bundle, the extractions forked from it don't."""
    director = ydl.build_request_director([])
    try:
        for handler in director.handlers.values():
            handler._make_sslcontext()
    finally:
        director.close()


def warm_tls_aside(ydl: Any) -> None:
    """:func:`warm_tls` on a thread of its own, once, in a process that works ahead
    (:data:`~mediadl.engine.preload.AHEAD`: a ``mediadl get``) and has no TLS context yet.

    OpenSSL reads the CA bundle (~30 ms) without holding the interpreter, so on a second core it
    is done while this thread finds the link's extractor; the first request waits for it, if at
    all, on the context's lock.
    """
    global _tls_aside  # noqa: PLW0603 - once per process
    with _TLS_LOCK:
        if _tls_aside or _TLS_CONTEXTS or not TLS.usable() or not AHEAD.is_set():
            return
        _tls_aside = True
    threading.Thread(target=_warm_quietly, args=(ydl,), name="mediadl-tls", daemon=True).start()


_tls_aside = False


def _warm_quietly(ydl: Any) -> None:
    try:
        warm_tls(ydl)
    except Exception as exc:  # noqa: BLE001 - the first request makes its context as before
        log.debug("making the TLS context ahead failed: %s", exc)


def guard_of(ydl: Any) -> Guard | None:
    guard = getattr(ydl, "_mediadl_guard", None)
    return guard if isinstance(guard, Guard) else None
