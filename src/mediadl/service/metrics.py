"""``GET /metrics`` in Prometheus's text format (``prometheus-client``), off unless turned on.

Counted by this process, as it happens (each replica answers its own; Prometheus adds them up
over the replicas it scrapes):

- ``mediadl_http_requests_total{route, method, status}``: answers, by route *template*
  (``/api/v1/jobs/{job_id}``, never the raw path: the label set stays bounded; ``unmatched`` for
  a path no route serves or a request refused before routing);
- ``mediadl_tunnels_open``: tunnels sending right now; ``mediadl_streamed_bytes_total``: media
  bytes they sent (added once when a tunnel ends, from the count its progress reporter keeps);
- ``mediadl_ffmpeg_tunnels_running`` and ``mediadl_ffmpeg_tunnels_waiting``: tunnels that hold
  an ffmpeg place (``max_ffmpeg_tunnels``), and those in line for one;
- ``mediadl_extractions_total{outcome}`` (``ok`` or the error code) and
  ``mediadl_extraction_seconds``: links read (cache misses), and how long they took.

Read from the shared job store at scrape time, so every replica answers the same:
``mediadl_jobs{state}``, ``mediadl_job_queue_length`` and ``mediadl_job_workers`` (workers whose
heartbeat is younger than ``job_lease``); ``mediadl_job_store_up`` is 0 when the store can't be
read. A scrape reads counters and makes three or four small store queries, nothing per tunnel, and
is never rate-limited.

Who may read: ``metrics_open``, or a scraper with ``metrics_key`` (``Authorization: Bearer …``, as
Prometheus's ``authorization`` sends it, or ``Api-Key …``); with metrics off the route is absent.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import Scope

from mediadl.jobs.model import JobState
from mediadl.jobs.store import JobStore
from mediadl.service.problems import MetricsKeyNeeded
from mediadl.settings import Settings

__all__ = ["Metrics", "install_metrics", "metrics_of", "route_of"]

log = logging.getLogger("mediadl.service.metrics")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_EXTRACT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0)


class Metrics:
    """This app's series, on a registry of its own (not the process-wide default: two apps in
    one process, as in tests, count apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.requests = Counter(
            "mediadl_http_requests",
            "HTTP answers by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.tunnels_open = Gauge("mediadl_tunnels_open", "Tunnels sending now.", registry=r)
        self.streamed = Counter(
            "mediadl_streamed_bytes", "Media bytes sent to clients through tunnels.", registry=r
        )
        self.extractions = Counter(
            "mediadl_extractions",
            "Links read (not from the cache), by outcome: ok or the error code.",
            ["outcome"],
            registry=r,
        )
        self.extraction_seconds = Histogram(
            "mediadl_extraction_seconds",
            "Seconds a link took to read.",
            buckets=_EXTRACT_BUCKETS,
            registry=r,
        )

    def answered(self, scope: Scope, status: int) -> None:
        method = scope.get("method", "")
        self.requests.labels(
            route_of(scope), method if method in _METHODS else "other", str(status)
        ).inc()

    def extracted(self, outcome: str, seconds: float) -> None:
        self.extractions.labels(outcome).inc()
        self.extraction_seconds.observe(seconds)

    def watch_jobs(self, store: JobStore, queue_length: Callable[[], int]) -> None:
        self.registry.register(_JobsCollector(store, queue_length))

    def watch_ffmpeg(self, running: Callable[[], int], waiting: Callable[[], int]) -> None:
        """Read the ffmpeg places at scrape time (nothing counted per tunnel)."""
        for name, doc, read in (
            ("mediadl_ffmpeg_tunnels_running", "Tunnels holding an ffmpeg place.", running),
            ("mediadl_ffmpeg_tunnels_waiting", "Tunnels in line for an ffmpeg place.", waiting),
        ):
            gauge = Gauge(name, doc, registry=self.registry)
            gauge.set_function(lambda read=read: float(read()))  # type: ignore[misc]

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_of(scope: Scope) -> str:
    """The template of the route that served ``scope`` (set by the router), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


def metrics_of(scope: Scope) -> Metrics | None:
    """The app's metrics, from a response that knows only its scope (a tunnel's body)."""
    app = scope.get("app")
    ctx = getattr(getattr(app, "state", None), "mediadl", None)
    found = getattr(ctx, "metrics", None)
    return found if isinstance(found, Metrics) else None


class _JobsCollector(Collector):
    """Jobs by state, queue length and workers alive, read from the shared store per scrape."""

    def __init__(self, store: JobStore, queue_length: Callable[[], int]) -> None:
        self.store, self.queue_length = store, queue_length

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("mediadl_job_store_up", "1 when the job store could be read.")
        try:
            counts = self.store.state_counts()
            queued = self.queue_length()
            workers = self.store.workers_alive()
        except Exception:  # a scrape must answer even when Redis is away
            log.warning("metrics: the job store can't be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("mediadl_jobs", "Jobs in the store by state.", labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], counts.get(state.value, 0))
        yield jobs
        yield GaugeMetricFamily(
            "mediadl_job_queue_length", "Messages waiting in the job queue.", value=queued
        )
        yield GaugeMetricFamily(
            "mediadl_job_workers", "Job workers whose heartbeat is recent.", value=workers
        )


def install_metrics(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """Add ``GET /metrics`` when metrics are on (otherwise the path is a plain 404)."""
    if not settings.metrics:
        return
    if not settings.metrics_open and settings.metrics_key is None:
        log.warning(
            "metrics are on but need a key and none is set: set MEDIADL_METRICS_KEY, or "
            "MEDIADL_METRICS_OPEN=true to let anyone read them"
        )
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def scrape(authorization: Annotated[str | None, Header()] = None) -> Response:
        """Prometheus's text format; the store's queries run in a thread."""
        check_scraper(settings, authorization)
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    app.include_router(router)


def check_scraper(settings: Settings, authorization: str | None) -> None:
    """``auth.metrics`` unless metrics are open or the header carries the metrics key."""
    if settings.metrics_open:
        return
    key = settings.metrics_key
    scheme, _, given = (authorization or "").partition(" ")
    if key is None or scheme.lower() not in ("bearer", "api-key"):
        raise MetricsKeyNeeded()
    if not hmac.compare_digest(given.strip().encode(), key.get_secret_value().encode()):
        raise MetricsKeyNeeded()
