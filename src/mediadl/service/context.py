"""What every route of one server shares: settings, the engine, the caches, the signer, the feeder,
the pool of kept-alive connections to the sites.

One :class:`ServiceContext` per app, built by ``create_app`` and started by its lifespan; routes
reach it through the ``Context`` dependency. Nothing here is a module-level global.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from mediadl.engine import Engine
from mediadl.engine.fetch import SharedPool
from mediadl.jobs import Jobs, Worker
from mediadl.service.feeder import Feeder
from mediadl.service.ffmpeg_queue import FFmpegQueue
from mediadl.service.metrics import Metrics
from mediadl.service.plans import PlanMemo
from mediadl.service.progress import ProgressHub
from mediadl.service.resolver import Resolver
from mediadl.service.source import Opener
from mediadl.service.tokens import Signer
from mediadl.settings import Settings

__all__ = ["Context", "ServiceContext", "get_context", "mediadl_version"]

log = logging.getLogger("mediadl.service")


@dataclass(eq=False)
class ServiceContext:
    settings: Settings
    engine: Engine
    signer: Signer
    opener: Opener
    executor: ThreadPoolExecutor
    resolver: Resolver
    feeder: Feeder
    pool: SharedPool
    """Connections the streams' requests reuse (closed with the server)."""
    hub: ProgressHub = field(default_factory=ProgressHub)
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    warm: asyncio.Future[None] | None = None
    jobs: Jobs | None = None
    """Jobs, when the operator turned them on."""
    job_worker: Worker | None = None
    """The workers this process runs itself (the embedded queue, or serve_job_workers)."""
    metrics: Metrics = field(default_factory=Metrics)
    plans: PlanMemo = field(init=False)
    """Tunnels' plans, decided once per cached info and choice."""
    ffmpeg: FFmpegQueue = field(init=False)
    """Places for tunnels that run ffmpeg (``max_ffmpeg_tunnels``), and the line for them."""

    def __post_init__(self) -> None:
        self.plans = PlanMemo(self.engine)
        self.ffmpeg = FFmpegQueue.from_settings(self.settings)

    @property
    def is_warm(self) -> bool:
        return self.warm is not None and self.warm.done() and not self.warm.cancelled()

    async def start(self) -> None:
        """Open the feeder, warm yt-dlp in a thread and start the extraction processes: the server
        is ready meanwhile."""
        await self.feeder.start()
        self.resolver.start()
        loop = asyncio.get_running_loop()
        self.warm = loop.run_in_executor(self.executor, self._warm_up)
        if self.job_worker is not None:
            self.job_worker.start()

    async def close(self) -> None:
        if self.job_worker is not None:
            await asyncio.to_thread(self.job_worker.stop)
        elif self.jobs is not None:
            self.jobs.store.close()
        await self.resolver.close()
        await self.feeder.close()
        await self.pool.aclose()
        if self.warm is not None and not self.warm.done():
            self.warm.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _warm_up(self) -> None:
        started = time.monotonic()
        try:
            self.engine.warm_up()
        except Exception:
            log.exception("warming up the extractors failed")
            return
        log.info("extractors warm in %.2f s", time.monotonic() - started)

    def public_base(self, request: Request) -> str:
        """The origin to put in links: ``base_url`` when set, else the one the client used."""
        if self.settings.base_url:
            return self.settings.base_url.rstrip("/")
        return str(request.base_url).rstrip("/")


@functools.cache
def mediadl_version() -> str:
    try:
        return importlib.metadata.version("mediadl")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def get_context(request: Request) -> ServiceContext:
    ctx = request.app.state.mediadl
    assert isinstance(ctx, ServiceContext)
    return ctx


async def _context(request: Request) -> ServiceContext:
    """The dependency. ``async`` because FastAPI runs a plain function's dependency in its thread
    pool: a hop there and back on every request, tunnels included."""
    return get_context(request)


Context = Annotated[ServiceContext, Depends(_context)]
