"""Workers: threads that take jobs off the queue and run them, plus housekeeping.

``mediadl worker`` runs one :class:`Worker` in the foreground; ``mediadl serve`` runs one in the
background with the embedded (SQLite) queue. Housekeeping, in every worker, puts back jobs whose
worker died (lease expired), pushes again queued jobs whose message was lost (within about
``job_lease`` and a third), and removes finished jobs past ``job_ttl``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time

from mediadl.jobs.control import Jobs
from mediadl.jobs.queue import JobQueue, open_store
from mediadl.jobs.runner import JobRun
from mediadl.settings import Settings

__all__ = ["Worker"]

log = logging.getLogger(__name__)

EXPIRE_EVERY = 60.0
"""Seconds between two looks for expired jobs (less when ``job_ttl`` is shorter)."""


class Worker:
    def __init__(self, settings: Settings, threads: int) -> None:
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.store = open_store(settings)
        self.queue = JobQueue(settings, self._execute)
        self.jobs = Jobs(settings, self.store, self.queue.push)
        self.stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"job-{n}", daemon=True)
            for n in range(threads)
        ]
        self._threads.append(
            threading.Thread(target=self._housekeeping, name="job-housekeeping", daemon=True)
        )

    def start(self) -> None:
        log.info("worker %s: %d job threads", self.name, len(self._threads) - 1)
        self._beat()
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; running ones stop and go back on the queue, work kept."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._beat(0.0)
        self.store.close()

    def _beat(self, ttl: float | None = None) -> None:
        """Say this worker is alive for one ``job_lease`` (the metrics count the workers)."""
        try:
            self.store.beat(self.name, self.settings.job_lease if ttl is None else ttl)
        except Exception:  # noqa: BLE001 - a missed beat only makes the count late
            log.warning("worker %s: its heartbeat couldn't be written", self.name)

    def _execute(self, job_id: str) -> None:
        JobRun(self.jobs, self.name, job_id, self.stopping).run()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                task = self.queue.pull()
            except Exception:
                log.exception("the job queue can't be read")
                self.stopping.wait(1.0)
                continue
            if task is None:
                self.stopping.wait(0.2)
                continue
            self.queue.execute(task)

    def _housekeeping(self) -> None:
        every = max(0.5, self.settings.job_lease / 3)
        expire_every = min(EXPIRE_EVERY, max(1.0, self.settings.job_ttl / 2))
        last_expire = 0.0
        while not self.stopping.wait(every):
            self._beat()
            try:
                for job_id in self.jobs.requeue_orphans():
                    log.warning("job %s: its worker is gone; it runs again", job_id)
                for job_id in self.jobs.requeue_unsent(self.queue.pending_ids):
                    log.warning("job %s: queued with no message waiting; pushed again", job_id)
                if time.monotonic() - last_expire >= expire_every:
                    last_expire = time.monotonic()
                    self.jobs.expire()
            except Exception:
                log.exception("job housekeeping failed")
