"""Running one job: take its lease, start its child process, follow it, write what it says.

A watcher thread beside the child renews the lease (every third of ``job_lease``) and reads the
cancel flag (every ``CHECK_EVERY`` seconds). On cancel it stops the child (SIGTERM: the child
cancels its fetch and kills its ffmpeg; SIGKILL to its process group after a grace), then the
work folder is removed and the job marked cancelled. A lease that can't be renewed means another
worker may have the job: the child is stopped and the record left alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
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
from mediadl.jobs.files import work_dir
from mediadl.jobs.model import FINAL_STATES, Item, Job, JobState
from mediadl.jobs.store import Claim
from mediadl.logsetup import bind_request_id, reset_request_id
from mediadl.settings import Settings

__all__ = ["CHECK_EVERY", "JobRun", "Outcome", "child_settings"]

log = logging.getLogger(__name__)

CHECK_EVERY = 0.1
"""Seconds between two reads of a running job's cancel flag."""
SAVE_EVERY = 0.5
"""Seconds between two writes of a running job's progress."""
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
        self.settings: Settings = jobs.settings
        self.store = jobs.store
        self._stop_reason: Outcome | None = None
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
            self.job_id, self.worker, self.settings.job_lease, site=job.site, limits=limits
        )
        if claim is Claim.HELD:
            return
        if claim is Claim.BUSY:  # back of the queue; a moment first, so it doesn't spin
            self.stopping.wait(0.5)
            self.jobs.push(self.job_id)
            return
        outcome = Outcome.FINISHED
        try:
            outcome = self._run_held()
        finally:
            if outcome is not Outcome.LOST:
                self.store.release(self.job_id, self.worker)
        if outcome is Outcome.STOPPED:
            self.jobs.push(self.job_id)

    def _run_held(self) -> Outcome:
        job = self.store.get(self.job_id)
        if job is None or job.state in FINAL_STATES:
            return Outcome.FINISHED
        if self.store.cancel_requested(self.job_id):
            self.jobs.finish_cancelled(self.job_id)
            return Outcome.CANCELLED
        job.state, job.attempts, job.updated = JobState.RUNNING, job.attempts + 1, time.time()
        job.worker, job.started = self.worker, job.updated
        self.store.save(job)
        log.info("job %s: running on %s (attempt %d)", job.id, self.worker, job.attempts)
        outcome = self._follow(job)
        if outcome is Outcome.CANCELLED:
            self.jobs.finish_cancelled(self.job_id)
        elif outcome is Outcome.STOPPED:
            job.state = JobState.QUEUED
            self.store.save(job)
        elif outcome is Outcome.FINISHED:
            job.settle()
            self.store.save(job)
            shutil.rmtree(work_dir(self.settings, self.job_id), ignore_errors=True)
        ended = job.state.value if outcome is Outcome.FINISHED else outcome.value
        log.info("job %s: %s", job.id, ended)
        return outcome

    def _follow(self, job: Job) -> Outcome:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl.jobs.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        spec = {
            "settings": child_settings(self.settings),
            "job": job.to_json(),
            "log_level": logging.getLogger().getEffectiveLevel(),
        }
        proc.stdin.write(json.dumps(spec).encode() + b"\n")
        proc.stdin.flush()
        watcher = threading.Thread(target=self._watch, args=(proc,), daemon=True)
        watcher.start()
        for line in proc.stdout:
            self._apply(job, line)
        proc.wait()
        watcher.join()
        if self._stop_reason is not None:
            return self._stop_reason
        if proc.returncode != 0:
            log.error("job %s: its process ended with status %s", job.id, proc.returncode)
            job.error = job.error or errors.InternalError().to_dict()
        return Outcome.FINISHED

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        renew_every = self.settings.job_lease / 3
        renewed = time.monotonic()
        while proc.poll() is None:
            time.sleep(CHECK_EVERY)
            if time.monotonic() - renewed >= renew_every:
                renewed = time.monotonic()
                if not self.store.renew(self.job_id, self.worker, self.settings.job_lease):
                    self._stop(proc, Outcome.LOST)
                    return
            if self.stopping.is_set():
                self._stop(proc, Outcome.STOPPED)
                return
            if self.store.cancel_requested(self.job_id):
                self._stop(proc, Outcome.CANCELLED)
                return

    def _stop(self, proc: subprocess.Popen[bytes], reason: Outcome) -> None:
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
            _progress(_item(job, event), event)
            if time.monotonic() - self._last_save < SAVE_EVERY:
                return
        else:
            self._item_event(job, kind, event)
        self._last_save = time.monotonic()
        job.updated = time.time()
        if self._stop_reason is not None:
            return  # cancelled or lost: the record and the work folder are not ours to change
        self.store.save(job)
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
