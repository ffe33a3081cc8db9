"""What the API does to a job when a worker moves it at the same moment: a cancel, a retry or a
removal that meets a run ending never leaves a record that says otherwise than what happened."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.jobs import Job, JobState, new_job_id
from mediadl.jobs.control import Jobs
from mediadl.jobs.model import Item
from mediadl.jobs.redis_store import RedisStore
from mediadl.jobs.runner import JobRun, Outcome
from mediadl.jobs.store import Claim, JobStore, SqliteStore
from mediadl.settings import Settings


@pytest.fixture
def jobs(store: JobStore, tmp_path: Path) -> Jobs:
    settings = Settings(data_dir=tmp_path / "data", download_dir=tmp_path / "downloads")
    return Jobs(settings, store, lambda _id: None)


def _running(store: JobStore) -> Job:
    job = Job(new_job_id(), "", "https://a.example/v", {})
    job.items = [Item(1, job.url)]
    job.resolved = True
    store.add(job)
    job.state = job.items[0].state = JobState.RUNNING
    store.save(job)
    return job


def test_a_cancel_that_meets_the_run_ending_leaves_the_job_done(
    jobs: Jobs, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _running(store)
    asked = store.request_cancel

    def ends_meanwhile(job_id: str) -> None:  # the worker saves "done" and gives the lease back
        asked(job_id)
        job.items[0].state, job.items[0].file = JobState.DONE, "v.mp4"
        job.settle()
        store.save(job)

    monkeypatch.setattr(store, "request_cancel", ends_meanwhile)
    answered = jobs.cancel(job.id, None)
    stored = store.get(job.id)
    assert stored is not None
    assert (answered.state, stored.state) == (JobState.DONE, JobState.DONE)
    assert stored.items[0].file == "v.mp4"
    assert not store.cancel_requested(job.id)  # a later retry is not cancelled by this one


def test_a_job_removed_leaves_nothing_that_comes_late_can_bring_back(
    store: JobStore, jobs: Jobs
) -> None:
    job = _running(store)
    jobs.remove(job.id, None)
    # a worker's run, a cancel or housekeeping that read the job just before it went
    assert store.claim(job.id, "w1", 30, site=job.site, limits=(4, 2)).value == "held"
    assert store.fence(job.id, "w1") is None
    store.request_cancel(job.id)
    assert not store.cancel_requested(job.id)
    job.state = JobState.DONE
    job.finish()
    assert not store.save(job)
    assert store.get(job.id) is None
    assert not any(store.state_counts().values())
    assert store.finished_before((job.finished or 0) + 1) == []
    if isinstance(store, RedisStore):
        assert store._r.keys(f"*{job.id}*") == []


def test_a_retry_while_the_run_still_gives_its_lease_back_says_to_try_again(
    store: JobStore, jobs: Jobs
) -> None:
    job = _running(store)
    assert store.claim(job.id, "w1#run", 30, site=job.site, limits=None).value == "ok"
    job.state = job.items[0].state = JobState.CANCELLED  # saved by the run, not yet released
    job.finish()
    store.save(job)
    for retry in (lambda: jobs.retry(job.id, None), lambda: jobs.retry_item(job.id, 1, None)):
        with pytest.raises(errors.JobConflict) as refused:
            retry()
        assert "still stopping" in refused.value.message
    store.release(job.id, "w1#run")
    assert jobs.retry(job.id, None).state is JobState.QUEUED


def test_a_file_published_as_the_cancel_came_stays_saved_in_the_record(
    store: JobStore, jobs: Jobs
) -> None:
    """The child linked the file and said so just as the run was told to stop: the record keeps
    the file (a retry must not make it again as "name (2)"), and the job says cancelled."""
    job = _running(store)
    run = JobRun(jobs, "w1", job.id, threading.Event())
    assert store.claim(job.id, run.holder, 30, site=job.site, limits=None) is Claim.OK
    fence = store.fence(job.id, run.holder)
    assert fence is not None
    run.fence = fence
    run._stop_reason = Outcome.CANCELLED  # the watcher saw the cancel and signalled the child
    saved = {"event": "saved", "index": 1, "file": "v.mp4", "size": 3}
    run._apply(job, json.dumps(saved).encode())
    assert jobs.finish_cancelled(job.id, fence) is not None
    stored = store.get(job.id)
    assert stored is not None and stored.state is JobState.CANCELLED
    assert (stored.items[0].state, stored.items[0].file) == (JobState.DONE, "v.mp4")


def _lapse_and_take(store: JobStore, job: Job) -> None:
    """The API call's lease lapses (its process paused past ``job_lease``) and a worker takes
    the job and saves it running."""
    if isinstance(store, RedisStore):
        store._r.delete(f"mediadl:jobs:lease:{job.id}")
    else:
        assert isinstance(store, SqliteStore)
        store._db.execute("update jobs set lease_until = 0 where id = ?", (job.id,))
    assert store.claim(job.id, "w2#run", 30, site=job.site, limits=None) is Claim.OK
    fence = store.fence(job.id, "w2#run")
    running = store.get(job.id)
    assert fence is not None and running is not None
    running.state = JobState.RUNNING
    assert store.save(running, fence)


def test_an_api_change_whose_lease_lapsed_writes_nothing_over_the_new_run(
    store: JobStore, jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _running(store)
    job.state = job.items[0].state = JobState.FAILED
    job.finish()
    store.save(job)
    clear = store.clear_cancel

    def paused(job_id: str) -> None:
        clear(job_id)
        _lapse_and_take(store, job)

    monkeypatch.setattr(store, "clear_cancel", paused)
    with pytest.raises(errors.JobConflict):
        jobs.retry(job.id, None)
    stored = store.get(job.id)
    assert stored is not None and stored.state is JobState.RUNNING


def test_a_cancel_whose_lease_lapsed_leaves_the_new_run_and_its_work(
    store: JobStore, jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = Job(new_job_id(), "", "https://a.example/v", {})
    store.add(job)
    fence_holds = store.fence_holds

    def paused(job_id: str, fence: int) -> bool:
        _lapse_and_take(store, job)
        work = jobs.settings.data_dir / "downloads" / ".mediadl-work" / job_id / "1"
        work.mkdir(parents=True)
        return fence_holds(job_id, fence)

    monkeypatch.setattr(store, "fence_holds", paused)
    jobs.cancel(job.id, None)
    stored = store.get(job.id)
    assert stored is not None and stored.state is JobState.RUNNING
    assert (jobs.settings.data_dir / "downloads" / ".mediadl-work" / job.id / "1").is_dir()
