"""Sending one format as it is (passthrough): ``Range``/``206``/``If-Range``, exact lengths.

The upstream is opened at the first byte the client wants, so a resumed download costs the
site only the rest; its size makes ``Content-Length`` and ``Content-Range`` exact.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mediadl import errors
from mediadl.models import Plan
from mediadl.service.headers import ByteRange, content_disposition, media_type, parse_range
from mediadl.service.leaving import WATCHED
from mediadl.service.metrics import metrics_of
from mediadl.service.problems import RangeNotSatisfiable, error_body, error_response
from mediadl.service.progress import Reporter
from mediadl.service.source import Opener
from mediadl.service.tokens import TunnelRequest
from mediadl.service.upstream import Refresh, ResilientStream
from mediadl.settings import Settings

__all__ = [
    "CROSS_ORIGIN",
    "ClosingStream",
    "Mode",
    "base_headers",
    "delivery_mode",
    "passthrough",
    "too_large",
]

Mode = Literal["passthrough", "remux", "transcode"]

CROSS_ORIGIN = {"Cross-Origin-Resource-Policy": "cross-origin"}
"""On media (tunnels, thumbnails), as cobalt's API sends it: a page served with
``Cross-Origin-Embedder-Policy: require-corp`` (cobalt's web app) may then load them."""


class ClosingStream(StreamingResponse):
    """A streamed body whose source is closed however the response ends — even when the client
    left before the first byte and the body was never iterated (ffmpeg is never left running).
    A response that ends without a final state (the client left) tells its followers so. It is
    an open tunnel for the metrics while it sends, and adds its bytes to them when it ends.

    Under :func:`~mediadl.service.leaving.until_client_leaves` (every tunnel's ``GET``) the body
    is sent straight away: that already cancels the answer when the client leaves, so
    Starlette's own listener (a task group and a task per answer) would only watch twice."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        *,
        close: Callable[[], Awaitable[None]],
        reporter: Reporter,
        **kw: Any,
    ) -> None:
        super().__init__(content, **kw)
        self._close = close
        self._reporter = reporter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = metrics_of(scope)
        if metrics is not None:
            metrics.tunnels_open.inc()
        try:
            if scope.get(WATCHED):
                await self.stream_response(send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            if metrics is not None:  # once per tunnel: nothing added to the path of a chunk
                metrics.tunnels_open.dec()
                metrics.streamed.inc(self._reporter.bytes)
            self._reporter.left()
            await self._close()


def delivery_mode(plan: Plan) -> Mode:
    """Passthrough when the site's file already is the file asked for (tags aside)."""
    bare = dataclasses.replace(plan, choice=dataclasses.replace(plan.choice, metadata=False))
    if not bare.needs_ffmpeg:
        return "passthrough"
    if any(s is not None and s.action == "transcode" for s in (plan.video, plan.audio)):
        return "transcode"
    return "remux"


def base_headers(plan: Plan, mode: Mode) -> dict[str, str]:
    return {
        "Content-Type": media_type(plan.ext),
        "Content-Disposition": content_disposition(plan.filename),
        "Cache-Control": "private, no-transform",
        "X-Content-Type-Options": "nosniff",
        "X-Mediadl-Mode": mode,
        **CROSS_ORIGIN,
    }


def too_large(settings: Settings, size: int | None) -> errors.ContentTooLarge | None:
    limit = settings.max_filesize
    if limit and size and size > limit:
        return errors.ContentTooLarge(limit=limit)
    return None


async def passthrough(
    request: Request,
    tunnel: TunnelRequest,
    plan: Plan,
    *,
    opener: Opener,
    settings: Settings,
    refresh: Refresh,
    reporter: Reporter,
) -> Response:
    fmt = plan.formats[0]
    etag = _etag(tunnel, fmt.id, fmt.filesize)
    wanted = parse_range(request.headers.get("range"))
    if wanted is not None and request.headers.get("if-range", etag) != etag:
        wanted = None  # the file changed (or a date we can't check): send all of it
    stream = ResilientStream(opener, fmt, settings, refresh)
    try:
        span = await _open(stream, wanted, fmt.filesize)
    except _Unsatisfiable as exc:
        await stream.aclose()
        headers = {"Content-Range": f"bytes */{exc.total if exc.total is not None else '*'}"}
        return error_response(RangeNotSatisfiable(), headers=headers)
    except BaseException:
        await stream.aclose()
        raise
    total = stream.total
    if (error := too_large(settings, total)) is not None:
        await stream.aclose()
        raise error
    headers = base_headers(plan, "passthrough") | {"ETag": etag}
    status, length = 200, None
    if total is not None:
        headers["Accept-Ranges"] = "bytes"
        length = span[1] - span[0]
        headers["Content-Length"] = str(length)
        if span != (0, total):
            status = 206
            headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{total}"
    elif stream.estimate:
        headers["Estimated-Content-Length"] = str(stream.estimate)
    reporter.stage("start", mode="passthrough", total=total, offset=span[0])
    if request.method == "HEAD":
        await stream.aclose()
        return Response(status_code=status, headers=headers)
    body = _body(stream, length, reporter)
    return ClosingStream(
        body, close=stream.aclose, reporter=reporter, status_code=status, headers=headers
    )


class _Unsatisfiable(Exception):
    def __init__(self, total: int | None) -> None:
        self.total = total


async def _open(
    stream: ResilientStream, wanted: ByteRange | None, known: int | None
) -> tuple[int, int]:
    """Open at the first wanted byte; the span ``[start, end)`` to send (end: total or 0)."""
    start = wanted.first if wanted is not None and wanted.first is not None else 0
    if wanted is not None and wanted.first is None:
        start = 0 if known is None else max(0, known - (wanted.last or 0))
    if known is not None and wanted is not None and wanted.resolve(known) is None:
        raise _Unsatisfiable(known)
    try:
        await stream.open(start)
    except errors.FetchError as exc:
        if exc.context.get("status") == 416:
            raise _Unsatisfiable(known) from exc
        raise
    total = stream.total
    if total is None:
        if start > 0:  # no size: a range can't be described, so send it all
            await stream.aclose()
            await stream.open(0)
        return 0, 0
    span = wanted.resolve(total) if wanted is not None else (0, total)
    if span is None:
        raise _Unsatisfiable(total)
    if span[0] != start:
        await stream.aclose()
        await stream.open(span[0])
    return span


def _etag(tunnel: TunnelRequest, format_id: str, size: int | None) -> str:
    identity = f"{tunnel.url}|{tunnel.item}|{format_id}|{size}"
    return '"' + hashlib.sha256(identity.encode()).hexdigest()[:24] + '"'


async def _body(
    stream: ResilientStream, length: int | None, reporter: Reporter
) -> AsyncIterator[bytes]:
    sent = 0
    try:
        async for chunk in stream.chunks():
            if length is not None and sent + len(chunk) >= length:
                yield chunk[: length - sent]
                sent = length
                break
            yield chunk
            sent += len(chunk)
            reporter.sent(sent)
        if length is not None and sent < length:
            raise errors.FetchIncomplete(received=sent, expected=length)
        reporter.done(sent)
    except errors.MediadlError as exc:
        reporter.failed(error_body(exc))
        raise
    finally:
        await stream.aclose()
