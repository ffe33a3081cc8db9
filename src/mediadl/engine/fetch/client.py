"""The fast fetcher's one door to the network: sessions, requests, replies, what a status means.

Every request the fast fetcher makes goes through :class:`HttpClient`, so the egress guard plugs in
here once: ``resolver`` decides which addresses a host name may reach, and ``peer_check`` vets the
address a new connection actually reached, before a request is written on it. With the ``proxy``
setting, connections tunnel through it to the checked address (:mod:`mediadl.engine.proxy`).
``connector_factory`` replaces the whole connector (tests).

Connections to one host are capped for the whole process (``host_connections``, see
:mod:`~mediadl.engine.fetch.hostgate`); a connection whose place another request waits for is
closed after its response instead of kept alive. A host that pushes back gets fewer places, for
every download of the process; good answers give them back little by little. A stream read as
it arrives (a tunnel's) is capped on its own pool only (``shared_host_cap=False``): the streams of
one tunnel feed one ffmpeg together, so a shared cap would let tunnels hold places while waiting
on each other. Such streams may also borrow the connections of one
:class:`~mediadl.engine.fetch.pool.SharedPool` (``pool``) instead of opening their own: a
server's tunnels then reuse kept-alive connections.

A kept-alive connection that went bad while idle is no failure of the site's: the connector drops
one that holds an error, and a GET whose kept connection fails before any answer goes again once
on a new connection (:func:`_send`).

Statuses and transport failures become :class:`RequestFailed`, which says whether trying again can
help and which ``fetch.*`` error the person sees if it never does. A site that answers slowly on
purpose is one too: each request must bring its first body byte within ``first_byte_timeout``
(headers that drip count) and then average ``fetch_min_speed`` bytes per second over each
``read_timeout`` seconds spent waiting for it (:class:`Speed`); ``read_timeout`` alone would let
a byte every few seconds hold a connection for ever.
"""

from __future__ import annotations

import asyncio
import errno
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from mediadl import errors
from mediadl.engine.egress import EgressPolicy
from mediadl.engine.fetch.connector import (
    GuardedConnector,
    PeerCheck,
    ProxiedConnector,
    new_connections_only,
    reuse_tracing,
    took_kept,
)
from mediadl.engine.fetch.hostgate import HostGate, gate_for
from mediadl.engine.fetch.pieces import read_piece
from mediadl.engine.fetch.rate import ByteRate
from mediadl.engine.fetch.retry import retry_after_seconds
from mediadl.engine.proxy import proxy_of
from mediadl.settings import Settings

if TYPE_CHECKING:
    from mediadl.engine.fetch.pool import SharedPool

__all__ = [
    "ConnectorFactory",
    "Headers",
    "HttpClient",
    "PeerCheck",
    "Reply",
    "RequestFailed",
    "Speed",
    "guarded_connector",
    "host_of",
    "new_session",
]

ConnectorFactory = Callable[[], aiohttp.BaseConnector]
Headers = Mapping[str, str] | Callable[[str], Mapping[str, str]]
"""Fixed headers, or the headers for each URL a request reaches (redirects included): a format's
:class:`~mediadl.engine.fetch.headers.RequestHeaders` gives each URL the cookies that belong to
it."""

KEEPALIVE_SECONDS = 30.0
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIALS = frozenset({"cookie", "authorization"})
_PUSHBACK_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNREFUSED})
"""A server that resets or refuses connections may be shedding load: slow down as for a 429."""
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)", re.I)


class RequestFailed(Exception):
    """One request went wrong. ``error`` is the ``fetch.*`` class shown if retries run out."""

    def __init__(
        self,
        error: type[errors.FetchError],
        *,
        retryable: bool,
        status: int | None = None,
        throttled: bool = False,
        retry_after: float | None = None,
        detail: str = "",
        slow: bool = False,
    ) -> None:
        self.error = error
        self.slow = slow
        """Cut for being too slow (first byte late, below the least speed): whatever such a
        try brought, it doesn't count as progress."""
        self.retryable = retryable
        self.status = status
        self.throttled = throttled
        self.retry_after = retry_after
        self.detail = detail
        super().__init__(detail or f"{error.code} (status {status})")


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


@dataclass(slots=True)
class Speed:
    """What one request must keep up: its first body byte by ``first_by`` (loop time), then
    ``min_speed`` bytes per second of the time spent waiting for the site, judged every
    ``window`` seconds of waiting. Time the reader spends elsewhere (a slow client downstream,
    a full window) is not the site's and isn't counted."""

    first_by: float
    min_speed: int
    window: float
    started: bool = False
    """Whether the first body byte (or the end of an empty body) came."""
    waited: float = 0.0
    received: int = 0

    def note(self, nbytes: int, waited: float) -> None:
        """``nbytes`` arrived after ``waited`` seconds; ``RequestFailed`` when too slow."""
        self.waited += waited
        self.received += nbytes
        if self.waited < self.window:
            return
        if self.received < self.min_speed * self.waited:
            raise RequestFailed(
                errors.FetchTimeout,
                retryable=True,
                detail=f"the site sent fewer than {self.min_speed} bytes per second",
                slow=True,
            )
        self.waited, self.received = 0.0, 0


@dataclass(slots=True)
class Reply:
    """A response whose headers were good: where its body sits in the resource, and the body."""

    status: int
    offset: int
    """Position in the resource of the body's first byte."""
    length: int | None
    """Body bytes to expect: the ``Content-Range`` span, else ``Content-Length``."""
    total: int | None
    """Size of the whole resource, when the server said it."""
    validator: str | None
    """A strong ``ETag`` or ``Last-Modified``, for ``If-Range`` on later requests."""
    response: aiohttp.ClientResponse
    reusable: bool = True
    """False once the connection must not go back to the pool (stopped early, lying length)."""
    speed: Speed | None = None

    @property
    def partial(self) -> bool:
        return self.status == 206

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in the pieces the connection brought (:mod:`.pieces`);
        transport failures become ``RequestFailed``."""
        content, speed = self.response.content, self.speed
        loop = asyncio.get_running_loop()
        try:
            while True:
                asked = loop.time()
                if speed is not None and not speed.started:
                    data = await _first_read(content, speed.first_by)
                    speed.started = True
                else:
                    data = await read_piece(content)
                if not data:
                    return
                if speed is not None and speed.min_speed:
                    speed.note(len(data), loop.time() - asked)
                yield data
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.reusable = False
            raise failure_from(exc) from exc
        except RequestFailed:
            self.reusable = False
            raise

    def abandon(self) -> None:
        """Stop reading before the body's end: the connection is closed, not reused."""
        _forbid_reuse(self)


class HttpClient:
    """One keep-alive connection pool for one download, and the only place requests are made.

    With ``pool``, the requests borrow that pool's connections instead (on its event loop; the
    pool's own settings then decide where connections may go)."""

    def __init__(
        self,
        settings: Settings,
        *,
        connector_factory: ConnectorFactory | None = None,
        resolver: AbstractResolver | None = None,
        shared_host_cap: bool = True,
        peer_check: PeerCheck | None = None,
        pool: SharedPool | None = None,
    ) -> None:
        if pool is not None and (connector_factory or resolver or peer_check or shared_host_cap):
            raise ValueError("a pooled client takes its connections as the pool makes them")
        self.settings = settings
        self._connector_factory = connector_factory
        self._host_limit = settings.host_connections if shared_host_cap else None
        """The process-wide cap per host (``None``: this pool's own ``limit_per_host`` only)."""
        self._resolver = resolver
        self._peer_check = peer_check
        self._pool = pool
        self._session: aiohttp.ClientSession | None = None
        self._own_session = False
        self.rate = ByteRate(settings.fetch_rate_limit) if settings.fetch_rate_limit else None
        """The download's speed cap, for every transfer over this client."""
        self._connector_made: aiohttp.BaseConnector | None = None

    def _connector(self) -> aiohttp.BaseConnector:
        if self._connector_factory is not None:
            return self._connector_factory()
        return guarded_connector(
            self.settings,
            peer_check=self._peer_check,
            resolver=self._resolver,
            host_limit=self._host_limit,
        )

    async def __aenter__(self) -> HttpClient:
        self._session = self._pool.session() if self._pool is not None else None
        if self._session is None:
            self._connector_made = self._connector()
            self._session = new_session(self.settings, self._connector_made)
            self._own_session = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        session, self._session = self._session, None
        if session is not None and self._own_session:
            await session.close()
        self._own_session = False
        if isinstance(self._connector_made, GuardedConnector):
            self._connector_made.release_places()
        self._connector_made = None

    @asynccontextmanager
    async def get(
        self,
        url: str,
        headers: Headers,
        *,
        start: int = 0,
        end: int | None = None,
        if_range: str | None = None,
    ) -> AsyncIterator[Reply]:
        """GET bytes ``[start, end)`` of ``url`` (``end=None``: to the resource's end).

        Yields a :class:`Reply` once the headers are good; raises :class:`RequestFailed`.
        """
        if self._session is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        extra = {"Accept-Encoding": "identity"}
        extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_range:
            extra["If-Range"] = if_range
        settings = self.settings
        first_by = asyncio.get_running_loop().time() + settings.first_byte_timeout
        try:
            async with asyncio.timeout_at(first_by):
                response = await self._follow(self._session, url, headers, extra)
        except TimeoutError as exc:
            raise _late() from exc
        reply: Reply | None = None
        gate = self._gate(response.url.host)
        try:
            reply = _reply(response, start)
            if gate is not None:
                gate.answered()
            reply.speed = Speed(first_by, settings.fetch_min_speed, settings.read_timeout)
            yield reply
        finally:
            wanted = gate is not None and gate.wanted
            if reply is not None and reply.reusable and response.content.at_eof() and not wanted:
                response.release()
            else:
                response.close()

    def pushed_back(self, url: str) -> int | None:
        """``url``'s host asked for less (429, 503, a reset): fewer connections to it, for every
        download of the process (see :mod:`~mediadl.engine.fetch.hostgate`). Returns how many
        the host gets now (``None``: this pool isn't capped by the process)."""
        gate = self._gate(host_of(url))
        if gate is None:
            return None
        gate.pushed_back()
        return gate.limit

    def _gate(self, host: str | None) -> HostGate | None:
        """The process-wide gate of ``host`` (``None``: this pool isn't capped by one)."""
        if self._host_limit is None or not host:
            return None
        return gate_for(host, self._host_limit)

    async def read_small(self, url: str, headers: Headers, *, limit: int) -> bytes:
        """A whole small resource (playlist, key, thumbnail) in memory, at most ``limit`` bytes.

        One try, no retries: ``transfer.fetch_small`` is the resilient version.
        """
        async with self.get(url, headers) as reply:
            if reply.offset != 0:
                raise RequestFailed(errors.FetchFailed, retryable=True, status=reply.status)
            body = bytearray()
            async for chunk in reply.chunks():
                body += chunk
                if len(body) > limit:
                    raise RequestFailed(
                        errors.FetchFailed, retryable=False, detail=f"larger than {limit} bytes"
                    )
            if reply.length is not None and len(body) < reply.length:
                raise RequestFailed(errors.FetchIncomplete, retryable=True, status=reply.status)
            return bytes(body)

    @staticmethod
    async def _follow(
        session: aiohttp.ClientSession, url: str, headers: Headers, extra: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """Send the request, following redirects ourselves: credentials stay with their host,
        and each URL gets the cookies that belong to it."""
        origin = host_of(url)
        for _ in range(MAX_REDIRECTS + 1):
            sent = {**_headers_at(headers, url, origin), **extra}
            response = await _send(session, url, sent)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                return response
            response.close()
            url = urljoin(str(response.url), location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise RequestFailed(
                    errors.FetchFailed,
                    retryable=False,
                    status=response.status,
                    detail="redirected away from the web",
                )
        raise RequestFailed(errors.FetchFailed, retryable=False, detail="too many redirects")


async def _send(
    session: aiohttp.ClientSession, url: str, headers: Mapping[str, str]
) -> aiohttp.ClientResponse:
    """GET ``url`` once. A kept connection that fails before any answer (the site closed it
    while it was idle and our request crossed its FIN, or it broke) is no answer from the site:
    the GET, idempotent, goes again on a new connection, once, as browsers do. aiohttp tries
    once more by itself, but on whatever the pool gives next, often another connection the site
    closed at the same time."""
    try:
        return await session.request("GET", url, headers=headers, allow_redirects=False)
    except _STALE as exc:
        if isinstance(exc, aiohttp.ClientConnectorError) or not took_kept():
            raise failure_from(exc) from exc
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise failure_from(exc) from exc
    try:
        with new_connections_only():
            return await session.request("GET", url, headers=headers, allow_redirects=False)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise failure_from(exc) from exc


_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ServerTimeoutError)
"""How a kept connection that went bad fails before its answer (a new one's connect errors,
``ClientConnectorError``, are the site's)."""


def guarded_connector(
    settings: Settings,
    *,
    peer_check: PeerCheck | None = None,
    resolver: AbstractResolver | None = None,
    host_limit: int | None = None,
    keep: int | None = None,
) -> GuardedConnector:
    """The fetcher's connector for ``settings``: the egress guard on every connection, through
    the operator's proxy when one is set; ``host_limit`` and ``keep`` as
    :class:`~mediadl.engine.fetch.connector.GuardedConnector` takes them."""
    check = peer_check or EgressPolicy.from_settings(settings).check_peer
    options: dict[str, Any] = {
        "limit": 0,
        "limit_per_host": settings.host_connections if keep is None else 0,
        "keepalive_timeout": KEEPALIVE_SECONDS,
        "ttl_dns_cache": 300,
        "resolver": resolver,
        "host_limit": host_limit,
        "keep": keep,
    }
    proxy = proxy_of(settings)
    if proxy is not None:
        return ProxiedConnector(check, proxy, EgressPolicy.from_settings(settings), **options)
    return GuardedConnector(check, **options)


def new_session(settings: Settings, connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
    """A session over ``connector`` as the fetcher uses it: bytes as sent (no decompression, no
    automatic ``Accept-Encoding``), no cookie jar (each request carries its own), the connect
    and read deadlines of ``settings``, and tracing that tells kept connections from new ones
    (:func:`~mediadl.engine.fetch.connector.reuse_tracing`)."""
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=None,
        sock_connect=settings.connect_timeout,
        sock_read=settings.read_timeout,
    )
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("Accept-Encoding",),
        read_bufsize=1 << 18,
        trace_configs=[reuse_tracing()],
    )


async def _first_read(content: aiohttp.StreamReader, first_by: float) -> bytes:
    try:
        async with asyncio.timeout_at(first_by):
            return await read_piece(content)
    except TimeoutError as exc:
        raise _late() from exc


def _late() -> RequestFailed:
    return RequestFailed(
        errors.FetchTimeout,
        retryable=True,
        detail="no first byte within first_byte_timeout",
        slow=True,
    )


def _headers_at(headers: Headers, url: str, origin: str | None) -> dict[str, str]:
    """The headers for ``url``. Away from the first host, fixed credentials are dropped; a
    per-URL ``Cookie`` (a jar's answer for ``url``) stays, since it belongs there."""
    if callable(headers):
        sent, dropped = dict(headers(url)), _CREDENTIALS - {"cookie"}
    else:
        sent, dropped = dict(headers), _CREDENTIALS
    if host_of(url) != origin:
        sent = {k: v for k, v in sent.items() if k.lower() not in dropped}
    return sent


def _reply(response: aiohttp.ClientResponse, start: int) -> Reply:
    status = response.status
    if status == 416:
        return _unsatisfiable(response, start)
    if status not in (200, 203, 206):
        raise _status_failure(status, response.headers.get("Retry-After"))
    length = _int(response.headers.get("Content-Length"))
    validator = _validator(response.headers)
    if status != 206:
        return Reply(status, 0, length, length, validator, response)
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if not match or match.group(1) is None:
        raise RequestFailed(
            errors.FetchFailed,
            retryable=True,
            status=status,
            detail="206 without a usable Content-Range",
        )
    first, last = int(match.group(1)), int(match.group(2))
    total = None if match.group(3) == "*" else int(match.group(3))
    span = last - first + 1
    reply = Reply(status, first, span, total, validator, response)
    if length is not None and length != span:
        _forbid_reuse(reply)  # the framing lies: bytes may be left on this connection
    return reply


def _forbid_reuse(reply: Reply) -> None:
    reply.reusable = False
    connection = reply.response.connection
    if connection is not None and connection.protocol is not None:
        connection.protocol.force_close()


def _unsatisfiable(response: aiohttp.ClientResponse, start: int) -> Reply:
    """416: fine when we asked from exactly the end (the body was complete), else an error."""
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    total = int(match.group(3)) if match and match.group(3) != "*" else None
    if total is not None and total == start:
        return Reply(206, start, 0, total, None, response, reusable=False)
    raise RequestFailed(
        errors.FetchIncomplete, retryable=False, status=416, detail="range not satisfiable"
    )


def _status_failure(status: int, retry_after: str | None) -> RequestFailed:
    if status in (429, 503):  # the server asks us to slow down
        return RequestFailed(
            errors.FetchRateLimited if status == 429 else errors.FetchFailed,
            retryable=True,
            status=status,
            throttled=True,
            retry_after=retry_after_seconds(retry_after),
        )
    if status in (403, 410):
        return RequestFailed(errors.FetchForbidden, retryable=False, status=status)
    if status in (408, 425, 500, 502, 504) or status >= 520:
        return RequestFailed(errors.FetchFailed, retryable=True, status=status)
    return RequestFailed(errors.FetchFailed, retryable=False, status=status)


def failure_from(exc: BaseException) -> RequestFailed:
    """A transport exception as a ``RequestFailed``; all of them are worth another try."""
    if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
        return RequestFailed(errors.FetchTimeout, retryable=True, detail=type(exc).__name__)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return RequestFailed(errors.FetchIncomplete, retryable=True, detail=str(exc)[:200])
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.TooManyRedirects)):
        return RequestFailed(errors.FetchFailed, retryable=False, detail=type(exc).__name__)
    if isinstance(exc, aiohttp.ClientResponseError):
        return (
            _status_failure(exc.status, None)
            if exc.status
            else RequestFailed(errors.FetchFailed, retryable=True, detail=str(exc)[:200])
        )
    pushback = isinstance(exc, OSError) and exc.errno in _PUSHBACK_ERRNOS
    return RequestFailed(
        errors.FetchFailed, retryable=True, throttled=pushback, detail=str(exc)[:200]
    )


def _validator(headers: Mapping[str, str]) -> str | None:
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified")


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None
