"""Read one sample link per named site through the engine, and say which still work.

``mediadl sites --check`` runs this: each site's sample is resolved (no download) on a bounded
pool of threads, each against a deadline of its own. A site listed as unavailable passes when it
answers with its own error code. Before any of that, :func:`reachable` tries the first few hosts:
when none of them takes a connection, the machine has no internet and the check says so at once
instead of failing every site one by one.

With a ``base`` (a replica server, ``http://127.0.0.2:8123``), every sample becomes
``<base>/<host>/<path>`` and mediadl's own extractors are aimed there with
:meth:`~mediadl.sites.base.SiteIE.pointed_at`, so the same check runs offline against replicas.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

from yt_dlp.extractor.common import InfoExtractor

from mediadl import errors
from mediadl.engine import Engine
from mediadl.settings import Settings
from mediadl.sites import extractors
from mediadl.sites.base import SiteIE
from mediadl.sites.catalog import Site

__all__ = ["Offline", "Outcome", "check", "reachable", "replica_url"]

log = logging.getLogger("mediadl.sites")

PROBE_HOSTS = 3
"""How many distinct hosts are tried first: none of them answering means no internet."""
PROBE_TIMEOUT = 3.0
"""Seconds a probe connection (name lookup included) may take."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one site's sample fared."""

    site: Site
    url: str
    ok: bool
    code: str | None
    """The error code the sample was answered with (expected for an unavailable site)."""
    seconds: float

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"title": self.site.title, "url": self.url, "ok": self.ok}
        if self.code:
            body["error"] = self.code
        body["seconds"] = round(self.seconds, 2)
        return body


class Offline(Exception):
    """None of the first hosts took a connection."""

    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = failures
        listed = "; ".join(f"{host}: {why}" for host, why in failures.items())
        super().__init__(f"no internet: couldn't reach {listed}")


def replica_url(url: str, base: str) -> str:
    """``https://host/path?q`` as ``<base>/host/path?q`` (how replicas serve every host)."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base.rstrip('/')}/{parts.netloc}{parts.path or '/'}{query}"


def aimed_extractors(base: str | None) -> list[type[InfoExtractor]]:
    """mediadl's own extractors, aimed at ``base`` when there is one."""
    own = list(extractors())
    if base is None:
        return own
    return [ie.pointed_at(base) if issubclass(ie, SiteIE) else ie for ie in own]


def reachable(urls: Sequence[str], timeout: float = PROBE_TIMEOUT) -> None:
    """Raise :class:`Offline` when none of the first hosts of ``urls`` takes a connection."""
    hosts: list[tuple[str, int]] = []
    for url in urls:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.hostname and (parts.hostname, port) not in hosts:
            hosts.append((parts.hostname, port))
        if len(hosts) == PROBE_HOSTS:
            break
    pool = ThreadPoolExecutor(len(hosts) or 1, thread_name_prefix="probe")
    futures = {pool.submit(_connect, host, timeout): f"{host[0]}:{host[1]}" for host in hosts}
    done, _ = wait(futures, timeout=timeout + 1)
    pool.shutdown(wait=False, cancel_futures=True)
    failures = {}
    for future, name in futures.items():
        if future not in done:
            failures[name] = "no answer"
        elif (why := future.result()) is not None:
            failures[name] = why
        else:
            return
    raise Offline(failures)


def _connect(host: tuple[str, int], timeout: float) -> str | None:
    try:
        with socket.create_connection(host, timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def check(
    catalog: Sequence[Site],
    settings: Settings,
    *,
    base: str | None = None,
    jobs: int = 4,
    deadline: float = 30.0,
) -> Iterator[Outcome]:
    """Each site's outcome as it comes; a site past its ``deadline`` fails with fetch.timeout.

    Raises :class:`Offline` first when the machine reaches none of the first hosts.
    """
    engine = Engine(settings, aimed_extractors(base))
    urls = [replica_url(site.sample, base) if base else site.sample for site in catalog]
    reachable(urls)
    engine.warm_up()  # compile every URL pattern once, outside the sites' deadlines
    pool = ThreadPoolExecutor(max(1, jobs), thread_name_prefix="check")
    started: dict[int, float] = {}
    running: dict[Future[Outcome], int] = {}
    try:
        for i, (site, url) in enumerate(zip(catalog, urls, strict=True)):
            running[pool.submit(_read, engine, site, url, started, i)] = i
        while running:
            done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                del running[future]
                yield future.result()
            now = time.monotonic()
            for future, i in list(running.items()):
                begun = started.get(i)
                if begun is not None and not future.done() and now - begun > deadline:
                    del running[future]  # its thread ends with the engine's own timeouts
                    yield Outcome(catalog[i], urls[i], False, errors.FetchTimeout.code, now - begun)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _read(engine: Engine, site: Site, url: str, started: dict[int, float], i: int) -> Outcome:
    begun = started[i] = time.monotonic()
    try:
        engine.resolve(url, playlist=False)
    except errors.MediadlError as err:
        ok = site.status == "unavailable" and err.code == site.error
        return Outcome(site, url, ok, err.code, time.monotonic() - begun)
    except Exception:  # a bug is one failed row (logged), not a failed check
        log.exception("checking %s failed", url)
        return Outcome(site, url, False, errors.InternalError.code, time.monotonic() - begun)
    return Outcome(site, url, site.status != "unavailable", None, time.monotonic() - begun)
