"""The job stores' leases: one holder at a time, limits across holders, expiry, on SQLite and a
real Redis alike."""

from __future__ import annotations

import time

from mediadl.jobs import Job, JobState, new_job_id
from mediadl.jobs.store import Claim, JobStore


def _job(store: JobStore, site: str = "a.example") -> Job:
    job = Job(new_job_id(), "", f"https://{site}/v", {})
    store.add(job)
    return job


def test_one_holder_at_a_time(store: JobStore) -> None:
    job = _job(store)
    assert store.claim(job.id, "w1", 30, site=job.site, limits=None) is Claim.OK
    assert store.claim(job.id, "w2", 30, site=job.site, limits=None) is Claim.HELD
    assert store.renew(job.id, "w1", 30)
    assert not store.renew(job.id, "w2", 30)
    store.release(job.id, "w2")  # not w2's to give back
    assert store.claim(job.id, "w2", 30, site=job.site, limits=None) is Claim.HELD
    store.release(job.id, "w1")
    assert store.claim(job.id, "w2", 30, site=job.site, limits=None) is Claim.OK


def test_an_expired_lease_makes_a_running_job_an_orphan(store: JobStore) -> None:
    job = _job(store)
    assert store.claim(job.id, "w1", 1, site=job.site, limits=None) is Claim.OK
    job.state = JobState.RUNNING
    store.save(job)
    assert store.orphans() == []
    deadline = time.monotonic() + 30
    while not store.orphans() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.orphans() == [job.id]
    assert not store.renew(job.id, "w1", 1)
    assert store.claim(job.id, "w2", 30, site=job.site, limits=None) is Claim.OK
    assert store.orphans() == []


def test_limits_count_every_holder(store: JobStore) -> None:
    first, second, third = _job(store), _job(store), _job(store, "b.example")
    limits = (2, 1)  # two in all, one per site
    assert store.claim(first.id, "w1", 30, site=first.site, limits=limits) is Claim.OK
    assert store.claim(second.id, "w2", 30, site=second.site, limits=limits) is Claim.BUSY
    assert store.claim(third.id, "w2", 30, site=third.site, limits=limits) is Claim.OK
    fourth = _job(store, "c.example")
    assert store.claim(fourth.id, "w3", 30, site=fourth.site, limits=limits) is Claim.BUSY
    store.release(first.id, "w1")
    assert store.claim(second.id, "w2", 30, site=second.site, limits=limits) is Claim.OK


def test_pages_newest_first_by_owner_and_state(store: JobStore) -> None:
    jobs = [Job(new_job_id(), "k1" if n % 2 else "k2", "https://a/v", {}) for n in range(5)]
    for n, job in enumerate(jobs):
        job.created = 1000.0 + n
        store.add(job)
    jobs[3].state = JobState.DONE
    store.save(jobs[3])
    page, total = store.page("k1", None, 0, 1)
    assert ([j.id for j in page], total) == ([jobs[3].id], 2)
    page, total = store.page(None, JobState.QUEUED, 1, 2)
    assert ([j.id for j in page], total) == ([jobs[2].id, jobs[1].id], 4)
    store.delete(jobs[3].id)
    assert store.get(jobs[3].id) is None
    assert store.page("k1", None, 0, 10)[1] == 1


def test_a_lease_taken_since_fences_the_old_holder_out(store: JobStore) -> None:
    job = _job(store)
    assert store.claim(job.id, "w1", 30, site=job.site, limits=None) is Claim.OK
    first = store.fence(job.id, "w1")
    assert first is not None
    assert store.fence(job.id, "w2") is None
    job.title = "by w1"
    assert store.save(job, first)
    store.release(job.id, "w1")
    assert store.fence_holds(job.id, first)  # given back, taken by nobody: still w1's last
    assert store.claim(job.id, "w2", 30, site=job.site, limits=None) is Claim.OK
    second = store.fence(job.id, "w2")
    assert second is not None and second != first
    assert not store.fence_holds(job.id, first)
    job.title = "by w1, late"
    assert not store.save(job, first)
    stored = store.get(job.id)
    assert stored is not None and stored.title == "by w1"
    job.title = "by w2"
    assert store.save(job, second)
    stored = store.get(job.id)
    assert stored is not None and stored.title == "by w2"


def test_queued_jobs_nobody_holds_are_idle_once_unchanged(store: JobStore) -> None:
    waiting, held, running = _job(store), _job(store), _job(store)
    for job in (waiting, held, running):
        job.updated = 1000.0
    running.state = JobState.RUNNING
    for job in (waiting, held, running):
        store.save(job)
    assert store.claim(held.id, "w1", 30, site=held.site, limits=None) is Claim.OK
    assert store.queued_idle(2000.0) == [waiting.id]
    assert store.queued_idle(500.0) == []
    waiting.state = JobState.DONE
    store.save(waiting)
    assert store.queued_idle(2000.0) == []
