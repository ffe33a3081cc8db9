"""The native API (``/api/v1``), made for the web page: resolve, download, progress, health.

POST /api/v1/resolve          {url, item?}          → the media, its choices, its entries
GET  /api/v1/resolve/events   ?url=&item=           → SSE: progress…, then result or error
POST /api/v1/download         {url, item?, choice}  → a tunnel link and what it will send
GET  /api/v1/tunnel           ?t=                   → the file          (tunnel.py)
GET  /api/v1/tunnel/events    ?t=                   → SSE: the tunnel's progress
GET  /api/v1/thumbnail        ?t=                   → a picture         (thumbs.py)
GET  /api/v1/info                                   → what this server offers
GET  /healthz                                       → up, and warm yet?
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BeforeValidator

from mediadl import errors
from mediadl.engine import normalize_url
from mediadl.engine.diagnostics import diagnose
from mediadl.engine.summary import summarize
from mediadl.models import AUDIO_FORMATS, CONTAINERS, QUALITY_LADDER, Choice, MediaInfo, Plan
from mediadl.service.auth import require_key
from mediadl.service.context import Context, ServiceContext, mediadl_version
from mediadl.service.delivery import delivery_mode
from mediadl.service.links import LINK_PATTERN, MAX_LINK_LENGTH, check_link
from mediadl.service.problems import error_body
from mediadl.service.remux import estimate_output
from mediadl.service.schemas import (
    DownloadOut,
    DownloadRequest,
    HealthOut,
    InfoOut,
    MediaOut,
    ResolveRequest,
    error_responses,
)
from mediadl.service.thumbs import thumbnail_link

__all__ = ["health_router", "media_out", "router", "tunnel_links"]

router = APIRouter(prefix="/api/v1", tags=["native"])
health_router = APIRouter(tags=["native"])

Authorization = Annotated[str | None, Header(description="`Api-Key <uuid>` when required.")]
_ERRORS = error_responses()
PROGRESS_EVERY = 0.5


def _decimal(value: object) -> object:
    """A query integer as a client writes one: digits only (no sign, spaces or leading zeros),
    which is what ``type: integer`` promises; a lenient parse would take ``6 `` for 6."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and value[:1] != "0"):
        raise ValueError("should be a whole number written with digits only")
    return value


LinkQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_LINK_LENGTH,
        description="The page's link (see `POST /resolve`).",
        json_schema_extra={"pattern": LINK_PATTERN},
    ),
]
ItemQuery = Annotated[int | None, Query(ge=1), BeforeValidator(_decimal)]
KeyQuery = Annotated[
    str | None, Query(max_length=64, description="API key, as EventSource sends no headers.")
]


@router.post("/resolve", response_model=MediaOut, responses=_ERRORS)
async def resolve(
    body: ResolveRequest, request: Request, ctx: Context, authorization: Authorization = None
) -> MediaOut:
    """Read a link: the media, the qualities and audio formats it really has, its entries."""
    require_key(ctx.settings, authorization)
    info = await ctx.resolver.resolve_item(check_link(body.url), body.item)
    return media_out(ctx, request, info, body.item)


async def _checked_link(ctx: Context, url: LinkQuery, key: KeyQuery = None) -> str:
    """The key and the link, checked before any event is sent: a request that can't be served
    is a JSON error with its status, not a stream that reports it (``async``: run on the loop,
    not in the thread pool)."""
    require_key(ctx.settings, f"Api-Key {key}" if key else None)
    return check_link(url)


@router.get("/resolve/events", response_class=EventSourceResponse, responses=_ERRORS)
async def resolve_events(
    request: Request,
    ctx: Context,
    url: Annotated[str, Depends(_checked_link)],
    item: ItemQuery = None,
) -> AsyncIterator[ServerSentEvent]:
    """Like `POST /resolve`, as Server-Sent Events: `progress` every half second while the
    site is read (`{"stage": "resolve", "elapsed": s}`), then `result` (the media) or `error`.
    A wrong key or a malformed link is answered at once, as a JSON error."""
    job = asyncio.ensure_future(ctx.resolver.resolve_item(url, item))
    started = time.monotonic()
    try:
        while not job.done():
            elapsed = round(time.monotonic() - started, 1)
            yield ServerSentEvent(event="progress", data={"stage": "resolve", "elapsed": elapsed})
            await asyncio.wait({job}, timeout=PROGRESS_EVERY)
        try:
            info = job.result()
        except errors.MediadlError as exc:
            yield ServerSentEvent(event="error", data=error_body(exc))
            return
        yield ServerSentEvent(event="result", data=media_out(ctx, request, info, item))
    finally:
        job.cancel()


@router.post("/download", response_model=DownloadOut, responses=_ERRORS)
async def download(
    body: DownloadRequest, request: Request, ctx: Context, authorization: Authorization = None
) -> DownloadOut:
    """Turn a choice into a tunnel link: GET it for the file, subscribe to `events` for progress.
    The link is valid for `tunnel_ttl` seconds, on any replica sharing this server's secret."""
    require_key(ctx.settings, authorization)
    url = check_link(body.url)
    choice = body.choice()
    info = await ctx.resolver.resolve_item(url, body.item)
    plan = ctx.engine.plan(info, choice)
    tunnel, events = tunnel_links(ctx, request, url, choice, body.item)
    mode = delivery_mode(plan)
    size, estimated = _size(plan, mode)
    return DownloadOut(
        tunnel=tunnel,
        events=events,
        filename=plan.filename,
        ext=plan.ext,
        kind=plan.kind,
        mode=mode,
        size=size,
        size_is_estimate=estimated,
        expires_at=int(time.time() + ctx.settings.tunnel_ttl),
    )


@router.get("/info", response_model=InfoOut)
async def info(ctx: Context) -> InfoOut:
    """What this server offers and runs on: qualities, containers, audio formats, link
    lifetime; versions, YouTube's challenge solver, internals, whether a proxy and cookies are
    configured (no paths, hosts or credentials)."""
    facts = (await asyncio.to_thread(diagnose, ctx.settings)).public()
    return InfoOut(
        version=mediadl_version(),
        qualities=list(QUALITY_LADDER),
        containers=list(CONTAINERS),
        audio_formats=list(AUDIO_FORMATS),
        tunnel_ttl=ctx.settings.tunnel_ttl,
        api_key_required=ctx.settings.api_key_required,
        **facts,
    )


@health_router.get("/healthz", response_model=HealthOut)
async def healthz(ctx: Context) -> HealthOut:
    """Up; `warm` turns true once the extractors are compiled (first requests are fast)."""
    return HealthOut(status="ok", warm=ctx.is_warm, version=mediadl_version())


def tunnel_links(
    ctx: ServiceContext, request: Request, url: str, choice: Choice, item: int | None
) -> tuple[str, str]:
    """The tunnel link and its events link, signed, on this server's public origin."""
    token = ctx.signer.tunnel(normalize_url(url), choice, item=item, ttl=ctx.settings.tunnel_ttl)
    base = f"{ctx.public_base(request)}/api/v1/tunnel"
    return f"{base}?t={token}", f"{base}/events?t={token}"


def media_out(ctx: ServiceContext, request: Request, info: MediaInfo, item: int | None) -> MediaOut:
    body = summarize(info)
    body["thumbnail"] = thumbnail_link(ctx, request, info.thumbnail)
    for entry in body.get("entries") or ():
        entry["thumbnail"] = thumbnail_link(ctx, request, entry["thumbnail"])
    body["item"] = item
    return MediaOut.model_validate(body)


def _size(plan: Plan, mode: str) -> tuple[int | None, bool]:
    if mode == "passthrough":
        fmt = plan.formats[0]
        return fmt.size, fmt.filesize is None
    return estimate_output(plan), True
