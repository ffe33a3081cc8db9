"""Who may use jobs, and the server's bounds on them: keys, quota, file size, expiry, events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mediadl_fixtures.server import FixtureSite
from support.jobs import TIMEOUT, wait_for
from support.server import Server

pytestmark = pytest.mark.slow

FINAL = ("done", "failed", "cancelled")


def test_jobs_are_off_unless_turned_on(launch: Callable[..., Server], site: FixtureSite) -> None:
    server = launch("off", MEDIADL_JOBS="false")
    answer = httpx.post(f"{server.base}/api/v1/jobs", json={"url": site.url("video")}, timeout=30)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "jobs.disabled")


def test_each_key_sees_only_its_own_jobs(launch: Callable[..., Server], site: FixtureSite) -> None:
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    server = launch("keys", MEDIADL_JOBS_OPEN="false", MEDIADL_API_KEYS=f"{mine},{theirs}")
    jobs = f"{server.base}/api/v1/jobs"
    anonymous = httpx.post(jobs, json={"url": site.url("video")}, timeout=30)
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "auth.missing")
    as_me = {"Authorization": f"Api-Key {mine}"}
    as_them = {"Authorization": f"Api-Key {theirs}"}
    made = httpx.post(jobs, json={"url": site.url("video")}, headers=as_me, timeout=30)
    assert made.status_code == 202
    job_id = made.json()["id"]
    assert httpx.get(jobs, headers=as_them, timeout=30).json()["total"] == 0
    assert [j["id"] for j in httpx.get(jobs, headers=as_me, timeout=30).json()["jobs"]] == [job_id]
    for method, path in (("GET", ""), ("POST", "/cancel"), ("DELETE", "")):
        answer = httpx.request(method, f"{jobs}/{job_id}{path}", headers=as_them, timeout=30)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "jobs.not_found")
    seen = httpx.get(f"{jobs}/{job_id}", params={"key": mine}, timeout=30)
    assert seen.status_code == 200
    nothing = httpx.post(jobs, json={"url": site.url("post"), "items": [0]}, headers=as_me)
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (422, "request.invalid")
    assert made.headers["RateLimit-Policy"]  # a new job reads a link: it counts as one


def test_a_full_downloads_folder_refuses_new_jobs(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    (downloads / "already-there.bin").write_bytes(b"x" * 4096)
    server = launch("quota", MEDIADL_DOWNLOAD_QUOTA="4096")
    answer = httpx.post(f"{server.base}/api/v1/jobs", json={"url": site.url("video")}, timeout=30)
    assert (answer.status_code, answer.json()["error"]["code"]) == (507, "jobs.quota")


def test_a_file_over_the_size_limit_fails_without_being_written(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("size", MEDIADL_MAX_FILESIZE="1000000")
    answer = httpx.post(
        f"{server.base}/api/v1/jobs", json={"url": site.url("video"), "metadata": False}, timeout=30
    )
    job_id = answer.json()["id"]
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the job to end")
    assert job["state"] == "failed"
    assert job["items"][0]["error"]["code"] == "content.too_large"
    assert not (downloads / job_id).exists() or not list((downloads / job_id).iterdir())
    assert not (downloads / ".mediadl-work" / job_id).exists()


def test_finished_jobs_expire_with_their_files(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("ttl", MEDIADL_JOB_TTL="2")
    answer = httpx.post(
        f"{server.base}/api/v1/jobs", json={"url": site.url("audio"), "audio": "best"}, timeout=30
    )
    job_id = answer.json()["id"]
    events = _events(f"{server.base}/api/v1/jobs/{job_id}/events")
    assert events[-1]["state"] == "done"
    assert events[0]["state"] in ("queued", "running")
    assert (downloads / job_id).exists()
    gone = wait_for_gone(server, job_id)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "jobs.not_found")
    assert not (downloads / job_id).exists()


def _events(url: str) -> list[dict[str, object]]:
    """Every `job` event of the stream, which ends with the job."""
    found = []
    with httpx.stream("GET", url, timeout=200) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data:"):
                found.append(json.loads(line.removeprefix("data:")))
    return found


def wait_for_gone(server: Server, job_id: str) -> httpx.Response:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        answer = httpx.get(f"{server.base}/api/v1/jobs/{job_id}", timeout=30)
        if answer.status_code == 404:
            return answer
        time.sleep(0.2)
    pytest.fail("the job didn't expire")
