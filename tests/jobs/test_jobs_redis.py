"""Jobs on a real redis-server: two `mediadl serve` replicas that run nothing, two workers."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mediadl_fixtures.server import FixtureSite
from support.jobs import TIMEOUT, fraction_fetched, job_of, wait_for
from support.server import Server

pytestmark = pytest.mark.slow


def test_a_worker_killed_mid_job_is_replaced_by_another(
    launch: Callable[..., Server],
    launch_worker: Callable[..., subprocess.Popen[bytes]],
    site: FixtureSite,
    downloads: Path,
    redis_url: str,
) -> None:
    queue = {"MEDIADL_QUEUE": redis_url}
    one, two = launch("one", **queue), launch("two", **queue)
    workers = {w.pid: w for w in (launch_worker("w1", **queue), launch_worker("w2", **queue))}
    source = site.media["progressive"].read_bytes()
    slow = site.url("video", total_rate=len(source) // 8)

    answer = httpx.post(
        f"{one.base}/api/v1/jobs", json={"url": slow, "metadata": False}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    running = wait_for(two, job_id, lambda j: fraction_fetched(j) >= 0.5, "half fetched")
    pid = int(running["worker"].split(":")[1])
    assert pid in workers
    workers[pid].send_signal(signal.SIGKILL)
    workers[pid].wait()

    job = wait_for(one, job_id, lambda j: j["state"] in ("done", "failed"), "the job to end")
    assert job["state"] == "done", job
    assert job["attempts"] >= 2  # more when a run on a busy machine missed a renewal
    survivor = next(p for p in workers if p != pid)
    assert int(job["worker"].split(":")[1]) == survivor
    [item] = job["items"]
    assert [p.name for p in (downloads / job_id).iterdir()] == [item["file"]]
    assert (downloads / job_id / item["file"]).read_bytes() == source
    assert site.stats.bytes_sent < 2 * len(source)
    [elsewhere] = job_of(two, job_id)["items"]
    assert elsewhere["download"].startswith(two.base)
    assert {**elsewhere, "download": None} == {**item, "download": None}


def test_per_site_limit_holds_across_workers(
    launch: Callable[..., Server],
    launch_worker: Callable[..., subprocess.Popen[bytes]],
    site: FixtureSite,
    redis_url: str,
) -> None:
    # a lease that can't lapse here: the limit counts live leases, and expiry has its own tests
    env = {"MEDIADL_QUEUE": redis_url, "MEDIADL_JOB_MAX_PER_SITE": "1", "MEDIADL_JOB_LEASE": "120"}
    server = launch("limits", **env)
    launch_worker("l1", **env)
    launch_worker("l2", **env)
    slow = site.url("audio", total_rate=150_000)
    ids = []
    for _ in range(3):
        answer = httpx.post(
            f"{server.base}/api/v1/jobs", json={"url": slow, "audio": "best"}, timeout=30
        )
        ids.append(answer.json()["id"])
    deadline = time.monotonic() + 3 * TIMEOUT
    while True:
        jobs = [job_of(server, i) for i in ids]
        if all(j["state"] in ("done", "failed") for j in jobs) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [j["state"] for j in jobs] == ["done"] * 3
    # one at a time: each run started after the one before it had ended (the records' own
    # times, written under the lease; polling states one job after another could see the end
    # of one run and the start of the next as overlapping)
    runs = sorted((j["started"], j["finished"]) for j in jobs)
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(runs)), runs
