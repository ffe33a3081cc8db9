"""Rate limits per client and download slots per client and in total (ASGI middleware).

Requests that read a link (``POST /api/v1/resolve``, ``/resolve/events``, ``/download``,
``POST /api/v1/jobs``, cobalt's ``POST /``) count against ``rate_limit`` (``rate_limit_keyed``
per valid API key); tunnels, thumbnails, progress streams and jobs' saved files against
``rate_limit_media``. Everything else (the page, ``/healthz``, ``/api/v1/info``, the OpenAPI
document, reading jobs' state) is free. Counters live in memory, or in
Redis (``rate_limit_storage``) so replicas share them; the moving-window strategy of the
``limits`` library counts them (in memory, the same window counted on the event loop:
:mod:`mediadl.service.window`).

Every counted answer carries ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
(seconds) and ``RateLimit-Policy``; a refused one is ``429`` with ``Retry-After`` and the error
shape of its face (cobalt's ``error.api.rate_exceeded`` at ``POST /``). An open tunnel holds a
download slot until its last byte: ``max_streams_per_client`` per client (``rate.streams``, 429)
and ``max_streams`` in all (``server.busy``, 503), counted where the rate-limit counters are: in
this process, or in Redis for every replica at once (:mod:`mediadl.service.slots`). A progress
stream (``tunnel/events``, ``resolve/events``) holds a connection and a descriptor of this process
for as long as it runs: at most ``max_event_streams_per_client`` per client are open in this
process (``rate.events``, 429).

A tunnel and a progress stream run under :func:`~mediadl.service.leaving.until_client_leaves`:
when the client leaves, the work is cancelled at once, even before the answer's first byte, and
the place (slot, progress stream) is given back once the work's clean-up ran. The place is held
by a ``try``/``finally`` around the whole request, so however it ends, it is given back.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from limits import RateLimitItem, WindowStats, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediadl import errors
from mediadl.service.clients import ClientId, identify
from mediadl.service.leaving import until_client_leaves
from mediadl.service.problems import error_body
from mediadl.service.slots import StreamSlots, stream_slots
from mediadl.service.window import InProcessWindow
from mediadl.settings import Settings

__all__ = ["RATE_HEADERS", "RateLimits", "kind_of"]

log = logging.getLogger("mediadl.service.ratelimit")

Kind = Literal["link", "media"]
RATE_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Retry-After",
)
_LINK_PATHS = frozenset({"/api/v1/resolve", "/api/v1/resolve/events", "/api/v1/download"})
_EVENT_PATHS = frozenset({"/api/v1/tunnel/events", "/api/v1/resolve/events"})
_MEDIA_PATHS = frozenset({"/api/v1/tunnel", "/api/v1/tunnel/events", "/api/v1/thumbnail"})


def kind_of(scope: Scope) -> Kind | None:
    """Which limit a request counts against, or ``None`` when it is free."""
    method, path = scope["method"], scope["path"]
    if method == "OPTIONS":
        return None
    if path in _LINK_PATHS or (path in ("/", "/api/v1/jobs") and method == "POST"):
        return "link"
    if path in _MEDIA_PATHS or (path.startswith("/api/v1/jobs/") and "/files/" in path):
        return "media"
    return None


@dataclass(frozen=True, slots=True)
class _Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: int
    window: int


class RateLimits:
    """The middleware; one per app, its counters shared by every request of the app."""

    def __init__(
        self, app: ASGIApp, *, settings: Settings, slots: StreamSlots | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self.slots = slots or stream_slots(settings)
        self._limits: dict[str, list[RateLimitItem]] = {
            "link": parse_many(settings.rate_limit),
            "keyed": parse_many(settings.rate_limit_keyed),
            "media": parse_many(settings.rate_limit_media),
        }
        self._limiter = _limiter(settings.rate_limit_storage)
        self.event_streams: Counter[str] = Counter()
        """Progress streams open per client, in this process."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (kind := kind_of(scope)) is None:
            await self.app(scope, receive, send)
            return
        client = identify(scope, self.settings)
        try:
            verdict = await self._count(kind, client)
        except Exception:  # the shared store is down: fail closed, say so in the log
            log.exception("rate-limit storage failed")
            await _refuse(
                scope, receive, send, errors.ServerBusy(), headers={"Retry-After": "5"}, window=5
            )
            return
        if not verdict.allowed:
            headers = verdict.headers | {"Retry-After": str(verdict.retry_after)}
            await _refuse(
                scope, receive, send, errors.RateLimited(), headers=headers, window=verdict.window
            )
            return
        if _is_stream(scope):
            await self._stream(scope, receive, send, client, verdict.headers)
            return
        if scope["path"] in _EVENT_PATHS and scope["method"] == "GET":
            await self._events(scope, receive, send, client, verdict.headers)
            return
        await self.app(scope, receive, _with_headers(send, verdict.headers))

    async def _count(self, kind: Kind, client: ClientId) -> _Verdict:
        name = "keyed" if kind == "link" and client.keyed else kind
        items = self._limits[name]
        allowed = True
        for item in items:
            allowed = await self._limiter.hit(item, name, client.name) and allowed
        stats = [
            (item, await self._limiter.get_window_stats(item, name, client.name)) for item in items
        ]
        item, tightest = min(stats, key=lambda pair: pair[1].remaining)
        now = time.time()
        reset = max(0, math.ceil(tightest.reset_time - now))
        refused = [(i, s) for i, s in stats if s.remaining <= 0] if not allowed else []
        retry = max((math.ceil(s.reset_time - now) for _, s in refused), default=reset)
        headers = {
            "RateLimit-Limit": str(item.amount),
            "RateLimit-Remaining": str(max(0, tightest.remaining)),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": _policy(items),
        }
        return _Verdict(allowed, headers, max(1, retry), item.get_expiry())

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        client: ClientId,
        headers: dict[str, str],
    ) -> None:
        """Hold a download slot while the tunnel's answer is sent."""
        try:
            slot = await self.slots.acquire(client.name)
        except errors.TooManyStreams as refusal:
            await _refuse(
                scope, receive, send, refusal, headers=headers | {"Retry-After": "5"}, window=5
            )
            return
        except errors.ServerBusy as refusal:
            await _refuse(scope, receive, send, refusal, headers={"Retry-After": "10"}, window=10)
            return
        except Exception:  # the shared store is down: fail closed, as for the rate limits
            log.exception("download slot storage failed")
            await _refuse(
                scope, receive, send, errors.ServerBusy(), headers={"Retry-After": "5"}, window=5
            )
            return
        try:
            await until_client_leaves(self.app, scope, receive, _with_headers(send, headers))
        finally:
            await slot.release()

    async def _events(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        client: ClientId,
        headers: dict[str, str],
    ) -> None:
        """Count a progress stream from its start to the end of the request (the app returns
        only once the stream ended and its generator's clean-up ran); one past the cap is
        refused before anything else is done."""
        name, open_now = client.name, self.event_streams
        if open_now[name] >= self.settings.max_event_streams_per_client:
            refusal = errors.TooManyEventStreams()
            await _refuse(
                scope, receive, send, refusal, headers=headers | {"Retry-After": "5"}, window=5
            )
            return
        open_now[name] += 1
        try:
            await until_client_leaves(self.app, scope, receive, _with_headers(send, headers))
        finally:
            open_now[name] -= 1
            if open_now[name] <= 0:
                del open_now[name]


class _Limiter(Protocol):
    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...


def _limiter(uri: str) -> _Limiter:
    scheme = uri.split("://", 1)[0].lower()
    if scheme == "memory":
        return InProcessWindow()
    options: dict[str, str] = {}
    if scheme.startswith(("redis", "rediss")):
        options["implementation"] = "redispy"
    storage = storage_from_string(f"async+{uri}", **options)
    assert isinstance(storage, Storage)
    return MovingWindowRateLimiter(storage)


def _policy(items: Sequence[RateLimitItem]) -> str:
    return ", ".join(f"{item.amount};w={item.get_expiry()}" for item in items)


def _is_stream(scope: Scope) -> bool:
    if scope["path"] != "/api/v1/tunnel" or scope["method"] != "GET":
        return False
    query = (scope.get("query_string") or b"").decode("latin-1")
    return not any(part.split("=", 1)[0] == "p" for part in query.split("&"))


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            target = MutableHeaders(scope=message)
            for name, value in headers.items():
                target[name] = value
        await send(message)

    return sending


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    error: errors.MediadlError,
    *,
    headers: dict[str, str],
    window: int,
) -> None:
    if scope["path"] == "/" and scope["method"] == "POST":  # cobalt's face, cobalt's shape
        code = "error.api.rate_exceeded" if error.status == 429 else "error.api.generic"
        body = {"status": "error", "error": {"code": code, "context": {"limit": window}}}
        response = JSONResponse(body, status_code=error.status, headers=headers)
    else:
        response = JSONResponse(error_body(error), status_code=error.status, headers=headers)
    await response(scope, receive, send)
