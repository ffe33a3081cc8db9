"""Replicas of the named sites mediadl reads with extractors of its own, on loopback.

One server on 127.0.0.2 plays every host of every replicated site: a request for
``https://www.kwai.com/video/1`` is made to ``<base>/www.kwai.com/video/1`` (the extractor's
:meth:`~mediadl.sites.base.SiteIE.pointed_at` builds such URLs). Each module here replicates one
site from what is known of its pages: the same script tags, JSON shapes and field names, the same
redirects and required headers, and its failure shapes (a removed post, a missing field, an image
post). A module exports ``routes(ctx) -> list[web.RouteDef]``; its media are the fixture site's
own files, served here under the site's CDN host, so a download through a replica is checked
against bytes known in advance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from aiohttp import web

from ..media import MediaSet
from ..threaded import running_app

__all__ = ["MODULES", "Recorded", "ReplicaCtx", "ReplicaSite", "running_replicas"]

REPLICA_HOST = "127.0.0.2"


@dataclass(frozen=True)
class Recorded:
    """One request a replica answered."""

    method: str
    path: str
    """From the host on: ``/www.kwai.com/video/1?x=1``."""
    headers: dict[str, str]
    status: int


@dataclass
class ReplicaCtx:
    """What a replica module may use to answer."""

    media: MediaSet
    base: str = ""
    """This server's origin, ``http://127.0.0.2:<port>`` (set once it listens)."""

    def url(self, host: str, path: str) -> str:
        """Absolute URL of ``path`` on the replicated ``host``."""
        return f"{self.base}/{host}{path}"

    def media_path(self, name: str) -> Path:
        """A fixture media file by its site path, e.g. ``/media/progressive.mp4``."""
        return self.media.site_dir / name.lstrip("/")

    def media_file(self, name: str) -> web.FileResponse:
        """A fixture media file, with ``Range`` and ``HEAD`` as a CDN answers them."""
        return web.FileResponse(self.media_path(name))


@dataclass
class ReplicaSite:
    """The running replica server; ``requests`` records every request, oldest first."""

    ctx: ReplicaCtx
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.ctx.base

    def url(self, host: str, path: str) -> str:
        return self.ctx.url(host, path)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        for module in MODULES:
            app.add_routes(module.routes(self.ctx))
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            self.requests.append(
                Recorded(request.method, request.path_qs, dict(request.headers), status)
            )


@contextmanager
def running_replicas(media: MediaSet, host: str = REPLICA_HOST) -> Iterator[ReplicaSite]:
    """Every replica, on ``host`` at a free port, in a thread of its own."""
    site = ReplicaSite(ReplicaCtx(media))
    with running_app(site.app(), host, "site-replicas") as port:
        site.port = port
        site.ctx.base = f"http://{host}:{port}"
        yield site


# The replica modules import ReplicaCtx from here, so they are imported once it exists.
from . import akillitv, febspot, ifunny, izlesene, kuaishou, kwai, mashable, sharechat  # noqa: E402

MODULES: tuple[ModuleType, ...] = (
    sharechat,
    mashable,
    kwai,
    kuaishou,
    ifunny,
    febspot,
    izlesene,
    akillitv,
)
"""The replica modules, one per site."""
