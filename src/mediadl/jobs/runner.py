"""Running one job: take its lease, start its child process, follow it, write what it says.

Two threads beside the child. One only renews the lease (every third of ``job_lease``), so a
busy watcher never delays a renewal. The other reads the cancel flag (every ``CHECK_EVERY``
seconds) and the worker's own stop. On cancel it stops the child (SIGTERM: the child cancels
its fetch and kills its ffmpeg; SIGKILL to its process group after a grace), then the work
folder is removed and the job marked cancelled.

Exactly one run at a time: the lease taken has a generation (its fence). Every write of the
record is fenced (:meth:`~mediadl.jobs.store.JobStore.save`), and the child checks the fence
itself before it publishes a file and a few times a second. A run whose lease lapsed and was
taken by another worker (a renewal late on an overloaded machine, a paused process) can then
neither publish nor overwrite the record: its child stops on its own, and this side stops it too
and leaves the record and the work folder to the new holder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from enum import StrEnum
from typing import Any

from mediadl import errors
from mediadl.jobs.control import Jobs
from mediadl.jobs.files import download_dir, folder_size, work_dir
from mediadl.jobs.model import FINAL_STATES, Item, Job, JobState
from mediadl.jobs.store import Claim
from mediadl.logsetup import bind_request_id, reset_request_id
from mediadl.settings import Settings

__all__ = ["CHECK_EVERY", "LOST_EXIT", "JobRun", "Outcome", "child_settings"]

log = logging.getLogger(__name__)

CHECK_EVERY = 0.1
"""Seconds between two reads of a running job's cancel flag."""
SAVE_EVERY = 0.5
"""Seconds between two writes of a running job's progress (a new stage is written at once)."""
LOST_EXIT = 3
"""A child's exit status when it saw its run's lease taken by another worker."""
KILL_GRACE = 0.5
"""Seconds a child has to stop after SIGTERM (it kills its ffmpeg and exits) before its
process group is killed."""


class Outcome(StrEnum):
    FINISHED = "finished"
    CANCELLED = "cancelled"
    LOST = "lost"
    """The lease was lost: another worker may run the job now."""
    STOPPED = "stopped"
    """This worker is shutting down: the job goes back on the queue."""


def child_settings(settings: Settings) -> dict[str, Any]:
    """The settings a child needs, as JSON (no secret: a child signs nothing)."""
    return settings.model_dump(mode="json", exclude={"secret", "api_keys", "metrics_key"})


class JobRun:
    def __init__(self, jobs: Jobs, worker: str, job_id: str, stopping: threading.Event) -> None:
        self.jobs, self.worker, self.job_id, self.stopping = jobs, worker, job_id, stopping
        self.holder = f"{worker}#{secrets.token_hex(4)}"
        """This run's name in the lease: two runs of one worker never pass for each other."""
        self.settings: Settings = jobs.settings
        self.store = jobs.store
        self.fence = 0
        self._stop_reason: Outcome | None = None
        self._stop_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._last_save = 0.0

    def run(self) -> None:
        job = self.store.get(self.job_id)
        if job is None or job.state in FINAL_STATES:
            return
        token = bind_request_id(job.request_id)  # this thread's lines name the job's request
        try:
            self._run(job)
        finally:
            reset_request_id(token)

    def _run(self, job: Job) -> None:
        limits = (self.settings.job_max_running, self.settings.job_max_per_site)
        claim = self.store.claim(
            self.job_id, self.holder, self.settings.job_lease, site=job.site, limits=limits
        )
        if claim is Claim.HELD:
            return
        if claim is Claim.BUSY:  # back of the queue (at once, so a message always waits for
            self.jobs.push(self.job_id)  # it), then a moment so this thread doesn't spin
            self.stopping.wait(0.5)
            return
        fence = self.store.fence(self.job_id, self.holder)
        if fence is None:  # lapsed and taken already
            return
        self.fence = fence
        outcome = Outcome.FINISHED
        try:
            outcome = self._run_held()
        finally:
            if outcome is not Outcome.LOST:
                self.store.release(self.job_id, self.holder)
        if outcome is Outcome.LOST:
            log.warning("job %s: its lease was taken by another worker; this run stopped", job.id)
        if outcome is Outcome.STOPPED:
            self.jobs.push(self.job_id)

    def _save(self, job: Job) -> bool:
        """Write the record while this run's lease is the last one taken."""
        return self.store.save(job, self.fence)

    def _run_held(self) -> Outcome:
        job = self.store.get(self.job_id)
        if job is None or job.state in FINAL_STATES:
            return Outcome.FINISHED
        if self.store.cancel_requested(self.job_id):
            self.jobs.finish_cancelled(self.job_id, self.fence)
            return Outcome.CANCELLED
        job.state, job.attempts, job.updated = JobState.RUNNING, job.attempts + 1, time.time()
        job.worker, job.started = self.worker, job.updated
        if not self._save(job):
            return Outcome.LOST
        log.info("job %s: running on %s (attempt %d)", job.id, self.worker, job.attempts)
        if self._quota_full():  # filled since the job was added: fail before writing
            _refuse(job, errors.JobsQuota().to_dict())
            outcome = Outcome.FINISHED
        else:
            outcome = self._follow(job)
        if outcome is Outcome.CANCELLED:
            if self.jobs.finish_cancelled(self.job_id, self.fence) is None:
                return Outcome.LOST
        elif outcome is Outcome.STOPPED:
            job.state = JobState.QUEUED
            if not self._save(job):
                return Outcome.LOST
        elif outcome is Outcome.FINISHED:
            job.settle()
            if not self._save(job):
                return Outcome.LOST
            shutil.rmtree(work_dir(self.settings, self.job_id), ignore_errors=True)
        ended = job.state.value if outcome is Outcome.FINISHED else outcome.value
        log.info("job %s: %s", job.id, ended)
        return outcome

    def _quota_full(self) -> bool:
        quota = self.settings.download_quota
        return quota is not None and folder_size(download_dir(self.settings)) >= quota

    def _follow(self, job: Job) -> Outcome:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl.jobs.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self._proc = proc
        assert proc.stdin is not None
        assert proc.stdout is not None
        spec = {
            "settings": child_settings(self.settings),
            "job": job.to_json(),
            "log_level": logging.getLogger().getEffectiveLevel(),
            "fence": self.fence,
        }
        proc.stdin.write(json.dumps(spec).encode() + b"\n")
        proc.stdin.flush()
        ended = threading.Event()
        threads = [
            threading.Thread(target=self._renew, args=(proc, ended), name="job-lease", daemon=True),
            threading.Thread(target=self._watch, args=(proc, ended), name="job-watch", daemon=True),
        ]
        for thread in threads:
            thread.start()
        for line in proc.stdout:
            self._apply(job, line)
        proc.wait()
        ended.set()
        for thread in threads:
            thread.join()
        if self._stop_reason is not None:
            return self._stop_reason
        if proc.returncode == LOST_EXIT:
            return Outcome.LOST
        if proc.returncode != 0:
            log.error("job %s: its process ended with status %s", job.id, proc.returncode)
            job.error = job.error or errors.InternalError().to_dict()
        return Outcome.FINISHED

    def _renew(self, proc: subprocess.Popen[bytes], ended: threading.Event) -> None:
        """The lease's own thread: renew, and nothing else, so nothing holds a renewal up."""
        lease = self.settings.job_lease
        while not ended.wait(lease / 3):
            try:
                kept = self.store.renew(self.job_id, self.holder, lease)
            except Exception:  # the store can't be reached: try again, the lease decides
                log.exception("job %s: the lease can't be renewed", self.job_id)
                continue
            if not kept:
                self._stop(proc, Outcome.LOST)
                return

    def _watch(self, proc: subprocess.Popen[bytes], ended: threading.Event) -> None:
        while not ended.wait(CHECK_EVERY):
            if self.stopping.is_set():
                self._stop(proc, Outcome.STOPPED)
                return
            if self.store.cancel_requested(self.job_id):
                self._stop(proc, Outcome.CANCELLED)
                return

    def _stop(self, proc: subprocess.Popen[bytes], reason: Outcome) -> None:
        with self._stop_lock:
            if self._stop_reason is not None:
                return
            self._stop_reason = reason
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(KILL_GRACE)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def _apply(self, job: Job, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        kind = event.get("event")
        if kind == "items":
            job.title, job.resolved = event.get("title"), True
            job.items = [Item(i["index"], i["url"], i.get("title")) for i in event["items"]]
        elif kind == "error":
            job.error = event["error"]
        elif kind == "progress":
            item = _item(job, event)
            moved_on = item.stage != event.get("stage")  # a new stage is saved at once
            _progress(item, event)
            if not moved_on and time.monotonic() - self._last_save < SAVE_EVERY:
                return
        else:
            self._item_event(job, kind, event)
        self._last_save = time.monotonic()
        job.updated = time.time()
        if self._stop_reason is Outcome.LOST:
            return  # the record and the work folder are another run's now
        if self._stop_reason is not None and kind != "saved":
            return  # stopping: only a file published meanwhile is written (a fact, not progress)
        if not self._save(job):  # another run holds the job now
            if self._proc is not None:
                self._stop(self._proc, Outcome.LOST)
            return
        if kind in ("saved", "failed"):
            shutil.rmtree(work_dir(self.settings, job.id, event["index"]), ignore_errors=True)

    def _item_event(self, job: Job, kind: str, event: dict[str, Any]) -> None:
        item = _item(job, event)
        if kind == "item":
            item.state, item.error = JobState.RUNNING, None
            item.title = event.get("title") or item.title
        elif kind == "saved":
            item.state, item.file, item.size = JobState.DONE, event["file"], event["size"]
            item.downloaded, item.speed, item.stage = event["size"], None, "done"
        elif kind == "failed":
            item.state, item.error, item.speed = JobState.FAILED, event["error"], None


def _refuse(job: Job, error: dict[str, Any]) -> None:
    """Fail what this run would have made: its items (a retry runs them alone, beside the
    saved ones), or the whole job while its items aren't known yet."""
    if not job.resolved:
        job.error = error
        return
    for item in job.items:
        if item.state in (JobState.QUEUED, JobState.RUNNING):
            item.state, item.error = JobState.FAILED, error


def _item(job: Job, event: dict[str, Any]) -> Item:
    index = event.get("index")
    found = next((i for i in job.items if i.index == index), None)
    if found is None:
        found = Item(int(index or 1), job.url)
        job.items.append(found)
    return found


def _progress(item: Item, event: dict[str, Any]) -> None:
    item.stage = event.get("stage")
    item.downloaded = int(event.get("downloaded") or 0)
    item.total = event.get("total")
    item.speed = event.get("speed")
