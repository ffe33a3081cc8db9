"""Exactly one run at a time on a real redis-server: a worker whose lease lapsed while it was
paused, and was taken by another, publishes nothing and writes nothing; a job whose queue
message was lost runs anyway."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis
from huey import RedisHuey

from mediadl.jobs.queue import QUEUE_NAME
from mediadl_fixtures.server import FixtureSite
from support.jobs import TIMEOUT, fraction_fetched, job_children, wait_for
from support.server import Server

pytestmark = pytest.mark.slow

FINAL = ("done", "failed", "cancelled")
P = "mediadl:jobs:"


def _until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited for {what}")
        time.sleep(0.1)


def _log(folder: Path, name: str) -> str:
    path = folder / f"{name}.log"
    return path.read_text() if path.exists() else ""


def test_a_worker_that_lost_its_lease_while_paused_publishes_nothing(
    launch: Callable[..., Server],
    launch_worker: Callable[..., subprocess.Popen[bytes]],
    site: FixtureSite,
    downloads: Path,
    redis_url: str,
    tmp_path: Path,
) -> None:
    queue = {"MEDIADL_QUEUE": redis_url}
    server = launch("fence", **queue)
    # the second worker is started and paused before the job, so that taking the job over
    # later costs a housekeeping tick, not a process's start, while the first child fetches on
    second = launch_worker("second", **queue)
    _until("the second worker to start", lambda: "job threads" in _log(tmp_path, "second"))
    second.send_signal(signal.SIGSTOP)
    first = launch_worker("first", **queue)
    _until("the first worker to start", lambda: "job threads" in _log(tmp_path, "first"))
    source = site.media["progressive"].read_bytes()
    answer = httpx.post(
        f"{server.base}/api/v1/jobs",
        json={"url": site.url("video", total_rate=len(source) // 8), "metadata": False},
        timeout=30,
    )
    job_id = answer.json()["id"]
    wait_for(server, job_id, lambda j: fraction_fetched(j) >= 0.2, "the fetch to be under way")
    [child] = job_children(first.pid)
    log = tmp_path / "first.log"

    first.send_signal(signal.SIGSTOP)  # paused: it renews nothing now
    try:
        store = redis.Redis.from_url(redis_url)
        assert store.delete(f"{P}lease:{job_id}") == 1  # its lease lapses
        store.zrem(f"{P}alive", job_id)
        store.zrem(f"{P}site:{site.host}", job_id)
        second.send_signal(signal.SIGCONT)
        job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the job to end")
        assert job["state"] == "done", job
        assert int(job["worker"].split(":")[1]) == second.pid
        # the paused worker's child saw the lease taken and stopped on its own
        assert f"job {job_id}: another worker took its lease" in log.read_text()
        _until("the first child to stop", lambda: job_children(first.pid) == [])
    finally:
        first.send_signal(signal.SIGCONT)
    _until("the first worker to notice", lambda: "was taken by another" in log.read_text())

    after = httpx.get(f"{server.base}/api/v1/jobs/{job_id}", timeout=30).json()
    assert after == job  # the first worker wrote nothing
    [item] = after["items"]
    assert [p.name for p in (downloads / job_id).iterdir()] == [item["file"]]
    assert " (2)" not in item["file"]
    assert (downloads / job_id / item["file"]).read_bytes() == source
    assert not (downloads / ".mediadl-work" / job_id).exists()
    assert first.poll() is None  # the first worker goes on, taking other jobs
    assert child not in job_children(first.pid)


def test_a_job_whose_queue_message_was_lost_runs_anyway(
    launch: Callable[..., Server],
    launch_worker: Callable[..., subprocess.Popen[bytes]],
    site: FixtureSite,
    downloads: Path,
    redis_url: str,
    tmp_path: Path,
) -> None:
    queue = {"MEDIADL_QUEUE": redis_url}
    server = launch("unsent", **queue)  # runs no jobs itself
    answer = httpx.post(
        f"{server.base}/api/v1/jobs", json={"url": site.url("video"), "metadata": False}
    )
    job_id = answer.json()["id"]
    huey = RedisHuey(QUEUE_NAME, url=redis_url)
    assert huey.pending_count() == 1
    huey.storage.flush_queue()  # as a Redis restarted without persistence would
    assert huey.pending_count() == 0

    launch_worker("late", **queue)
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the job to run")
    assert (job["state"], job["attempts"]) == ("done", 1)
    [item] = job["items"]
    assert (downloads / job_id / item["file"]).read_bytes() == site.media[
        "progressive"
    ].read_bytes()
    assert "pushed again" in (tmp_path / "late.log").read_text()
