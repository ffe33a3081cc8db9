"""What the metrics read from a job store: jobs by state and workers alive, on SQLite and a real
Redis alike (every replica reads the same numbers)."""

from __future__ import annotations

import time

from mediadl.jobs import Job, JobState, new_job_id
from mediadl.jobs.store import JobStore


def counts(store: JobStore) -> dict[str, int]:
    return {state: n for state, n in store.state_counts().items() if n}


def test_jobs_are_counted_by_state_as_they_move(store: JobStore) -> None:
    jobs = [Job(new_job_id(), "", "https://a.example/v", {}) for _ in range(3)]
    for job in jobs:
        store.add(job)
    assert counts(store) == {"queued": 3}
    jobs[0].state = JobState.RUNNING
    store.save(jobs[0])
    jobs[1].state = JobState.RUNNING
    store.save(jobs[1])
    jobs[1].state = JobState.DONE
    jobs[1].finish()
    store.save(jobs[1])
    assert counts(store) == {"queued": 1, "running": 1, "done": 1}
    store.delete(jobs[1].id)
    store.delete(jobs[2].id)
    assert counts(store) == {"running": 1}


def test_workers_alive_are_those_whose_beat_is_recent(store: JobStore) -> None:
    assert store.workers_alive() == 0
    store.beat("w1", 30)
    store.beat("w2", 1)
    store.beat("w1", 30)  # a beat again is still one worker
    assert store.workers_alive() == 2
    deadline = time.monotonic() + 30
    while store.workers_alive() != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.workers_alive() == 1  # w2 stopped beating: gone after its bound
    store.beat("w1", 0)  # a worker that stops says so
    assert store.workers_alive() == 0
