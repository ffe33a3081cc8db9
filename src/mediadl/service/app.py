"""The ASGI app: routes of both faces, the error shape, CORS, body limits, start and stop.

Middleware, outermost first: CORS (every answer carries ``Access-Control-Allow-Origin``, errors
included — cobalt's client takes a bare error for a dead server), :class:`ErrorGuard` (a bug is a
logged ``500 internal``; every answer gets a request id and is counted for ``/metrics``), the rate
limits, :class:`BodyLimit` (1 KiB at ``POST /``, as cobalt), then the routes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from mediadl import errors, sites
from mediadl.engine import Engine
from mediadl.engine.cookies import configured_cookies
from mediadl.engine.fetch import SharedPool
from mediadl.engine.sandbox import ExtractorPool
from mediadl.jobs import JobQueue, Jobs, Worker, open_store
from mediadl.service import cobalt, home, jobs_api, native, thumbs, tunnel
from mediadl.service.auth import BodyLimit
from mediadl.service.context import ServiceContext, mediadl_version
from mediadl.service.docs import mount_docs
from mediadl.service.feeder import Feeder
from mediadl.service.metrics import Metrics, install_metrics
from mediadl.service.problems import ErrorGuard, install_handlers
from mediadl.service.ratelimit import RATE_HEADERS, RateLimits
from mediadl.service.resolver import Resolver
from mediadl.service.secret import load_secret
from mediadl.service.slots import StreamSlots, stream_slots
from mediadl.service.source import Opener, open_format, pooled_opener
from mediadl.service.tokens import Signer
from mediadl.settings import Settings

__all__ = ["COBALT_BODY_LIMIT", "check_cookies", "create_app"]

log = logging.getLogger("mediadl.service")

COBALT_BODY_LIMIT = 1024
EXPOSED_HEADERS = (
    "Content-Disposition",
    "Content-Length",
    "Content-Range",
    "Accept-Ranges",
    "Estimated-Content-Length",
    "ETag",
    "X-Mediadl-Mode",
    "X-Request-Id",
    *RATE_HEADERS,
)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    opener: Opener | None = None,
) -> FastAPI:
    """The whole server for ``settings``.

    ``engine`` defaults to one with mediadl's own site extractors ahead of yt-dlp's; ``opener``
    is where upstream bytes come from: by default the engine's fetcher, over the server's shared
    pool of kept-alive connections when ``tunnel_pool`` is on (tests pass a wrapper to play a
    misbehaving site).
    """
    check_cookies(settings)
    engine = engine or Engine(settings, sites.extractors())
    executor = ThreadPoolExecutor(settings.resolve_workers, thread_name_prefix="extract")
    metrics = Metrics()
    pool = SharedPool(settings)
    opener = opener or (pooled_opener(pool) if settings.tunnel_pool else open_format)
    ctx = ServiceContext(
        settings=settings,
        engine=engine,
        signer=Signer(load_secret(settings)),
        opener=opener,
        executor=executor,
        resolver=Resolver(
            engine,
            executor,
            pool=ExtractorPool(settings, engine.extractors, workers=settings.resolve_workers),
            metrics=metrics,
        ),
        feeder=Feeder(settings, opener),
        metrics=metrics,
        pool=pool,
    )
    _add_jobs(ctx, settings)
    metrics.watch_ffmpeg(lambda: ctx.ffmpeg.running, lambda: ctx.ffmpeg.waiting)

    slots = stream_slots(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await ctx.start()
        try:
            yield
        finally:
            await ctx.close()
            await slots.close()

    app = FastAPI(
        title="mediadl",
        version=mediadl_version(),
        summary="Fast and free all-in-one video downloader: native and cobalt-compatible APIs.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # tunnels first: the router tries routes in order, and tunnels are most of the requests
    app.include_router(tunnel.router)
    mount_docs(app)
    app.state.mediadl = ctx
    install_handlers(app)
    install_metrics(app, settings, metrics)
    for module in (native, jobs_api, thumbs, cobalt, home):
        app.include_router(module.router)
    app.include_router(native.health_router)
    _add_middleware(app, settings, slots, metrics)
    return app


def _add_jobs(ctx: ServiceContext, settings: Settings) -> None:
    """Jobs when turned on: with the embedded queue this process runs them too (nothing else to
    start); with Redis, ``mediadl worker`` processes do, unless ``serve_job_workers`` is set."""
    if not settings.jobs:
        return
    if not settings.jobs_open and not settings.api_keys:
        log.warning(
            "jobs are on but need an API key and none is set: set MEDIADL_API_KEYS, or "
            "MEDIADL_JOBS_OPEN=true to let anyone use them"
        )
    threads = settings.job_workers if settings.queue == "sqlite" else settings.serve_job_workers
    if threads:
        ctx.job_worker = Worker(settings, threads)
        ctx.jobs, queue = ctx.job_worker.jobs, ctx.job_worker.queue
    else:
        queue = JobQueue(settings)
        ctx.jobs = Jobs(settings, open_store(settings), queue.push)
    ctx.metrics.watch_jobs(ctx.jobs.store, queue.__len__)


def check_cookies(settings: Settings) -> None:
    """Read the operator's cookies file now: a server that can't must not start.

    Cookies from a browser are the CLI's: a server has no browser of its visitors', and would
    send the operator's own cookies on every visitor's behalf without saying so.
    """
    if settings.cookies_from_browser:
        raise errors.ConfigCookies(
            "Cookies from a browser are for the command line only. For the server, export the "
            "cookies of the accounts it should use to a cookies.txt file and set "
            "MEDIADL_COOKIES_FILE."
        )
    configured_cookies(settings)


def _add_middleware(app: FastAPI, settings: Settings, slots: StreamSlots, metrics: Metrics) -> None:
    """The last added runs first: CORS, the error guard, rate limits, then the body limit (so a
    refusal by the rate limits carries a request id and is counted too)."""
    app.add_middleware(BodyLimit, default=settings.max_request_body, root=COBALT_BODY_LIMIT)
    app.add_middleware(RateLimits, settings=settings, slots=slots)
    app.add_middleware(ErrorGuard, answered=metrics.answered)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Accept", "Range", "If-Range"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
