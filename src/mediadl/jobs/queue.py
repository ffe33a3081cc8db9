"""The queue jobs wait in: huey's, on SQLite (embedded) or Redis (shared), with one task.

huey carries messages (``run_job(job_id)``) from whoever accepts a job to whichever worker is
free. It takes a message off the queue as it hands it out (Redis ``BRPOP``, SQLite ``DELETE``):
a worker killed mid-task loses it. That is why the message carries only the job's id, and the
job's lease in the store (see :mod:`mediadl.jobs.store`) is what makes a job run again, once at
a time, after its worker died: the housekeeping of any worker finds the expired lease and puts
the job back on the queue. A message lost before any worker took it (a Redis restarted without
persistence) is made good the same way: housekeeping pushes again a job that sat queued for a
lease's time with no message waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, Task

from mediadl.jobs.redis_store import RedisStore
from mediadl.jobs.store import JobStore, SqliteStore
from mediadl.settings import Settings

__all__ = ["JobQueue", "open_store"]

QUEUE_NAME = "mediadl-jobs"
TASK_NAME = "run_job"


def open_store(settings: Settings) -> JobStore:
    if settings.queue == "sqlite":
        return SqliteStore(settings.data_dir / "jobs" / "jobs.db")
    return RedisStore(settings.queue)


def _huey(settings: Settings) -> Huey:
    if settings.queue == "sqlite":
        folder = settings.data_dir / "jobs"
        folder.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(folder / "queue.db"), results=False)
    return RedisHuey(QUEUE_NAME, url=settings.queue, results=False, blocking=True, read_timeout=1)


class JobQueue:
    """``push`` a job's id; a worker ``pull``s a message and ``execute``s it with ``handler``."""

    def __init__(self, settings: Settings, handler: Callable[[str], None] | None = None) -> None:
        self.huey = _huey(settings)
        self._handler = handler

        def run_job(job_id: str) -> None:  # one name (module and function) in every process
            if self._handler is None:
                raise RuntimeError("this process runs no jobs")
            self._handler(job_id)

        self._task: Any = self.huey.task(name=TASK_NAME)(run_job)

    def push(self, job_id: str) -> None:
        self._task(job_id)

    def pull(self) -> Task | None:
        """The next message, or ``None`` after a moment (Redis waits a second for one)."""
        task: Task | None = self.huey.dequeue()
        return task

    def execute(self, task: Task) -> None:
        self.huey.execute(task)

    def pending_ids(self) -> set[str]:
        """The job ids of the messages waiting in the queue."""
        return {str(task.args[0]) for task in self.huey.pending() if task.args}

    def __len__(self) -> int:
        return int(self.huey.pending_count())
