"""What the API and housekeeping do to a job: add, cancel, retry, remove, expire, put back.

Each change that writes a job's record first takes its lease (``Claim.OK`` means no worker is
running it) and writes under that lease's fence, as a worker does, so a record is never written
by two at once, even by a call paused past its lease; a job a worker holds is asked to stop
through its cancel flag, which the worker reads several times a second.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mediadl import errors
from mediadl.jobs.files import download_dir, folder_size, remove_job_files, work_dir
from mediadl.jobs.model import FINAL_STATES, Job, JobState
from mediadl.jobs.store import Claim, JobStore
from mediadl.settings import Settings

__all__ = ["Jobs"]

_HELD_WAIT = 5.0
"""Seconds ``remove`` waits for the worker of a running job to stop it."""
_STOPPING = "The job is still stopping. Try again in a moment."


class Jobs:
    """The jobs of one store and queue, as the faces and housekeeping change them."""

    def __init__(self, settings: Settings, store: JobStore, push: Callable[[str], None]) -> None:
        self.settings, self.store, self.push = settings, store, push
        self.me = f"api:{secrets.token_hex(6)}"

    @contextmanager
    def _holding(self, job_id: str) -> Iterator[int | None]:
        """The fence of the job's lease when this call took it (released at the end), else
        ``None``. Each call has a name of its own: two requests of one process never both hold
        a job. Its writes are fenced like a worker's: a call paused past its lease, whose job a
        worker took since, writes nothing."""
        site = ""
        job = self.store.get(job_id)
        if job is not None:
            site = job.site
        me = f"{self.me}#{secrets.token_hex(4)}"
        got = self.store.claim(job_id, me, self.settings.job_lease, site=site, limits=None)
        try:
            yield self.store.fence(job_id, me) if got is Claim.OK else None
        finally:
            if got is Claim.OK:
                self.store.release(job_id, me)

    def add(self, job: Job) -> Job:
        quota = self.settings.download_quota
        if quota is not None and folder_size(download_dir(self.settings)) >= quota:
            raise errors.JobsQuota()
        self.store.add(job)
        self.push(job.id)
        return job

    def get(self, job_id: str, owner: str | None) -> Job:
        job = self.store.get(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise errors.JobNotFound()
        return job

    def cancel(self, job_id: str, owner: str | None) -> Job:
        job = self.get(job_id, owner)
        if job.state in FINAL_STATES:
            return job
        self.store.request_cancel(job_id)
        with self._holding(job_id) as fence:
            if fence is not None:  # nobody runs it: queued, or its worker is gone
                return self.finish_cancelled(job_id, fence) or job
        return self.get(job_id, owner)

    def finish_cancelled(self, job_id: str, fence: int | None = None) -> Job | None:
        """Mark a job cancelled and remove its work (the caller holds the lease, of generation
        ``fence`` if given: ``None`` when another took it since, and nothing is changed). A job
        that ended meanwhile (its run saved it done or failed) is left as it is."""
        job = self.store.get(job_id)
        if job is None or (fence is not None and not self.store.fence_holds(job_id, fence)):
            return None
        if job.state in FINAL_STATES:  # it ended between the request and the lease: it stays so
            self.store.clear_cancel(job_id)
            return job
        # the work goes before the state says cancelled (who reads "cancelled" finds it gone); a
        # run that took the job since would find the cancel request and stop too
        remove_work(self.settings, job_id)
        for item in job.items:
            if item.state in (JobState.QUEUED, JobState.RUNNING):
                item.state = JobState.CANCELLED
                item.speed = None
        job.state = JobState.CANCELLED
        job.finish()
        if not self.store.save(job, fence):
            return None
        self.store.clear_cancel(job_id)
        return job

    def retry(self, job_id: str, owner: str | None) -> Job:
        """Run again what failed or was cancelled; what was saved stays."""
        job = self.get(job_id, owner)
        with self._holding(job_id) as fence:
            job = self.get(job_id, owner)
            _ended_and_held(job, fence)
            if job.state not in (JobState.FAILED, JobState.CANCELLED):
                raise errors.JobConflict("Only a failed or cancelled job can be retried.")
            job.error = None
            if not job.resolved:  # items known stay: their saved files must not be made twice
                job.items = []
            for item in job.items:
                if item.state is not JobState.DONE:
                    item.reset()
            job.state, job.finished, job.updated = JobState.QUEUED, None, time.time()
            self.store.clear_cancel(job_id)
            _saved(self.store.save(job, fence))
        self.push(job_id)
        return job

    def retry_item(self, job_id: str, index: int, owner: str | None) -> Job:
        """Run one failed or cancelled item again, and only it: the job's other items stay as
        they are (saved files untouched, other failures left failed)."""
        job = self.get(job_id, owner)
        with self._holding(job_id) as fence:
            job = self.get(job_id, owner)
            _ended_and_held(job, fence)
            if job.state not in FINAL_STATES:
                raise errors.JobConflict(
                    "The job is queued or running; retry an item once the job has ended."
                )
            item = next((i for i in job.items if i.index == index), None)
            if item is None:
                raise errors.JobNotFound(f"This job has no item {index}.")
            if item.state not in (JobState.FAILED, JobState.CANCELLED):
                raise errors.JobConflict(f"Item {index} is saved already; only a failed or "
                                         "cancelled item can be retried.")  # fmt: skip
            item.reset()
            job.error = None  # known items: an error of the job's own was about this run
            job.state, job.finished, job.updated = JobState.QUEUED, None, time.time()
            self.store.clear_cancel(job_id)
            _saved(self.store.save(job, fence))
        self.push(job_id)
        return job

    def remove(self, job_id: str, owner: str | None) -> None:
        """Stop the job if it runs, then remove its files and its record."""
        self.get(job_id, owner)
        self.store.request_cancel(job_id)
        deadline = time.monotonic() + _HELD_WAIT
        while True:
            with self._holding(job_id) as fence:
                if fence is not None:
                    remove_job_files(self.settings, job_id)
                    self.store.delete(job_id)
                    return
            if time.monotonic() > deadline:
                raise errors.JobConflict(_STOPPING)
            time.sleep(0.1)

    def requeue_orphans(self) -> list[str]:
        """Jobs whose worker died: back on the queue (or cancelled, if that was asked)."""
        moved = []
        for job_id in self.store.orphans():
            with self._holding(job_id) as fence:
                job = self.store.get(job_id)
                if fence is None or job is None or job.state is not JobState.RUNNING:
                    continue
                if self.store.cancel_requested(job_id):
                    self.finish_cancelled(job_id, fence)
                    continue
                job.state, job.updated = JobState.QUEUED, time.time()
                if not self.store.save(job, fence):
                    continue
            self.push(job_id)
            moved.append(job_id)
        return moved

    def requeue_unsent(self, pending: Callable[[], set[str]]) -> list[str]:
        """Queued jobs with no message to run them (one lost: a Redis that restarted without
        persistence, a process that died between saving a job and pushing it): pushed again.

        A job counts once it sat queued, held by nobody, for ``job_lease`` seconds and its id
        is in none of the ``pending`` messages (read after the store, so a message pushed in
        between is seen). A message too many is harmless: the run finds the job held or ended.
        """
        idle = self.store.queued_idle(time.time() - self.settings.job_lease)
        if not idle:
            return []
        waiting = pending()
        moved = []
        for job_id in idle:
            if job_id in waiting:
                continue
            with self._holding(job_id) as fence:
                job = self.store.get(job_id)
                if fence is None or job is None or job.state is not JobState.QUEUED:
                    continue
                job.updated = time.time()  # pushed now: not again before another lease
                if not self.store.save(job, fence):
                    continue
            self.push(job_id)
            moved.append(job_id)
        return moved

    def expire(self) -> list[str]:
        """Finished jobs older than ``job_ttl``: their files and records go."""
        if not self.settings.job_ttl:
            return []
        gone = []
        for job_id in self.store.finished_before(time.time() - self.settings.job_ttl):
            with self._holding(job_id) as fence:
                if fence is not None:
                    remove_job_files(self.settings, job_id)
                    self.store.delete(job_id)
                    gone.append(job_id)
        return gone


def _ended_and_held(job: Job, fence: int | None) -> None:
    """An ended job whose run hasn't given its lease back yet (it saved the end a moment ago):
    say so, rather than that its state forbids the change."""
    if fence is None and job.state in FINAL_STATES:
        raise errors.JobConflict(_STOPPING)
    if fence is None:
        raise errors.JobConflict(
            "The job is queued or running; cancel it first, or wait for it to end."
        )


def _saved(written: bool) -> None:
    """A change this call's lease no longer covers (a worker took the job since) is refused."""
    if not written:
        raise errors.JobConflict()


def remove_work(settings: Settings, job_id: str) -> None:
    shutil.rmtree(work_dir(settings, job_id), ignore_errors=True)
