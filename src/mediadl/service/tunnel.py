"""``GET /api/v1/tunnel?t=…``: check the signed request, resolve it, stream the file.

One tunnel endpoint serves both faces (native and cobalt). ``&p=1`` is cobalt's probe: a checked
tunnel answers it ``200`` with no body. A tunnel for one ``part`` of a plan sends that stream as
the site does (cobalt's ``local-processing``, :mod:`~mediadl.service.cobalt_local`). Progress is
published under the tunnel's id for ``GET /api/v1/tunnel/events?t=…``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from mediadl import errors
from mediadl.models import Format, Plan
from mediadl.service.cobalt_local import stream_part
from mediadl.service.context import Context, ServiceContext, get_context
from mediadl.service.delivery import (
    CROSS_ORIGIN,
    ClosingStream,
    base_headers,
    delivery_mode,
    passthrough,
    too_large,
)
from mediadl.service.feeder import Feed
from mediadl.service.problems import error_body
from mediadl.service.progress import Reporter
from mediadl.service.remux import RemuxStream, estimate_output
from mediadl.service.schemas import error_responses
from mediadl.service.tokens import TOKEN_PATTERN, TunnelRequest
from mediadl.service.upstream import Refresh

__all__ = ["router"]

log = logging.getLogger("mediadl.service.tunnel")

router = APIRouter(prefix="/api/v1", tags=["tunnel"])

Token = Annotated[
    str,
    Query(
        min_length=10,
        max_length=8192,
        description="The signed request.",
        json_schema_extra={"pattern": TOKEN_PATTERN},
    ),
]
_ERRORS = error_responses()


@router.get(
    "/tunnel",
    responses={200: {"description": "The file's bytes."}, **_ERRORS},
    response_class=Response,
)
@router.head("/tunnel", include_in_schema=False)
async def tunnel(
    request: Request,
    t: Token,
    p: Annotated[str | None, Query(description="cobalt's probe: answer 200, no body.")] = None,
) -> Response:
    """The file, streamed as it is fetched (passthrough with Range, or remuxed on the fly)."""
    ctx = get_context(request)  # not a dependency: one less step on every tunnel's way in
    req = ctx.signer.read_tunnel(t)
    if p is not None:
        return Response(status_code=200, headers=dict(CROSS_ORIGIN))
    reporter = Reporter(ctx.hub, req.id)
    try:
        reporter.stage("resolve")
        info = await ctx.resolver.resolve_item(req.url, req.item)
        plan, mode = ctx.plans.plan(info, req.choice)
        if req.part is not None:
            plan = stream_part(plan, req.part)
        if req.part is not None or mode == "passthrough":
            return await passthrough(
                request,
                req,
                plan,
                opener=ctx.opener,
                settings=ctx.settings,
                refresh=_refresher(ctx, req, req.part or 0, plan.formats[0]),
                reporter=reporter,
            )
        return await _remux(request, ctx, req, plan, reporter)
    except errors.MediadlError as exc:
        reporter.failed(error_body(exc))
        raise
    except asyncio.CancelledError:  # the client left before the answer (in line, say)
        reporter.left()
        raise


async def _checked(ctx: Context, t: Token) -> TunnelRequest:
    """The tunnel, checked before any event is sent (a bad one is a JSON error, not a stream;
    ``async``: run on the loop, not in the thread pool)."""
    return ctx.signer.read_tunnel(t)


@router.get(
    "/tunnel/events",
    response_class=EventSourceResponse,
    responses=_ERRORS,
)
async def tunnel_events(
    ctx: Context, req: Annotated[TunnelRequest, Depends(_checked)]
) -> AsyncIterator[ServerSentEvent]:
    """What the server is doing for this tunnel: `waiting`, `resolve`, `queued` (in line for
    an ffmpeg place: `position`, 1 = next), `mux`, `start`, `progress` (bytes sent), then `done`
    or `error`; one JSON object per event. A stream with no event for
    `MEDIADL_EVENT_STREAM_IDLE` seconds ends; subscribe again to go on."""
    settings = ctx.settings
    subscription = ctx.hub.subscribe(
        req.id, timeout=settings.tunnel_ttl, idle=settings.event_stream_idle
    )
    async for state in subscription:
        yield ServerSentEvent(data=state, event=str(state["stage"]))


async def _remux(
    request: Request, ctx: ServiceContext, req: TunnelRequest, plan: Plan, reporter: Reporter
) -> Response:
    mode = delivery_mode(plan)
    feeds = [Feed(fmt, _refresher(ctx, req, i, fmt)) for i, fmt in enumerate(plan.formats)]
    headers = base_headers(plan, mode) | {"Accept-Ranges": "none"}
    if request.method == "HEAD":
        estimate = estimate_output(plan)
        if estimate:
            headers["Estimated-Content-Length"] = str(estimate)
        response = Response(status_code=200, headers=headers)
        del response.headers["content-length"]  # unknown: not 0
        return response
    place = await ctx.ffmpeg.take(reporter.queued)
    job: RemuxStream | None = None

    async def close() -> None:
        """ffmpeg ended (killed at worst), then its place goes to the next in line."""
        try:
            if job is not None:
                await job.aclose()
        finally:
            place.release()

    try:  # until the body owns it, every way out (a client leaving too) gives the place back
        reporter.stage("mux", mode=mode)
        job = RemuxStream(plan, ctx.feeder, feeds, ctx.settings)
        await job.start()
        estimate = await _estimate(ctx, plan, feeds, job)
        if estimate:
            headers["Estimated-Content-Length"] = str(estimate)
        reporter.stage("start", mode=mode, estimate=estimate)
        body = _remux_body(ctx, job, reporter, close)
    except BaseException:
        await close()
        raise
    return ClosingStream(body, close=close, reporter=reporter, headers=headers)


async def _estimate(
    ctx: ServiceContext, plan: Plan, feeds: list[Feed], job: RemuxStream
) -> int | None:
    """The output's size when it can be told (``ContentTooLarge`` past ``max_filesize``)."""
    estimate = estimate_output(plan, feeds)
    if estimate is None and delivery_mode(plan) == "transcode" and plan.video is None:
        estimate = estimate_output(plan, feeds, await job.source_duration())
    if (error := too_large(ctx.settings, estimate)) is not None:
        raise error
    return estimate


async def _remux_body(
    ctx: ServiceContext, job: RemuxStream, reporter: Reporter, close: Callable[[], Awaitable[None]]
) -> AsyncIterator[bytes]:
    sent = 0
    limit = ctx.settings.max_filesize
    try:
        async for chunk in job.chunks():
            sent += len(chunk)
            if limit and sent > limit:
                raise errors.ContentTooLarge(limit=limit)
            reporter.sent(sent)
            yield chunk
        reporter.done(sent)
    except errors.MediadlError as exc:
        log.debug("remux cut after %d bytes: %s", sent, exc.code)  # logged once, by ErrorGuard
        reporter.failed(error_body(exc))
        raise
    finally:
        await close()


def _refresher(ctx: ServiceContext, req: TunnelRequest, index: int, old: Format) -> Refresh:
    """Re-extract the page and find the same format (same id, else the same place in the plan)."""

    async def refresh() -> Format:
        await ctx.resolver.forget_item(req.url, req.item)
        info = await ctx.resolver.resolve_item(req.url, req.item)
        plan = ctx.engine.plan(info, req.choice)
        same = next((f for f in plan.formats if f.id == old.id), None)
        return same or plan.formats[min(index, len(plan.formats) - 1)]

    return refresh
