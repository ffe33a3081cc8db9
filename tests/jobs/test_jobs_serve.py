"""Jobs through a real `mediadl serve` with the embedded queue: nothing else running."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import pytest

from mediadl_fixtures.server import FixtureSite
from support.jobs import fraction_fetched, job_children, processes_mentioning, wait_for
from support.server import Server

pytestmark = pytest.mark.slow

FINAL = ("done", "failed", "cancelled")


def _add(server: Server, url: str, **choice: object) -> str:
    answer = httpx.post(
        f"{server.base}/api/v1/jobs", json={"url": url, "metadata": False, **choice}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert answer.headers["Location"] == body["url"]
    assert body["state"] == "queued"
    return str(body["id"])


def test_a_job_through_serve_alone(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("alone")
    job_id = _add(server, site.url("video"))
    listed = httpx.get(f"{server.base}/api/v1/jobs", timeout=30).json()
    assert [j["id"] for j in listed["jobs"]] == [job_id]
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the job to end")
    assert job["state"] == "done", job
    [item] = job["items"]
    source = site.media["progressive"].read_bytes()
    saved = downloads / job_id / item["file"]
    assert saved.read_bytes() == source
    assert item["size"] == len(source)
    whole = httpx.get(item["download"], timeout=30)
    assert (whole.status_code, whole.content) == (200, source)
    part = httpx.get(item["download"], headers={"Range": "bytes=100-199"}, timeout=30)
    assert (part.status_code, part.content) == (206, source[100:200])
    assert httpx.get(f"{server.base}/api/v1/jobs?state=done", timeout=30).json()["total"] == 1
    assert httpx.get(f"{server.base}/api/v1/jobs?state=queued", timeout=30).json()["total"] == 0

    gone = httpx.delete(f"{server.base}/api/v1/jobs/{job_id}", timeout=30)
    assert gone.status_code == 204
    assert not (downloads / job_id).exists()
    missing = httpx.get(f"{server.base}/api/v1/jobs/{job_id}", timeout=30)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "jobs.not_found")


def test_a_server_killed_mid_job_finishes_it_after_a_restart(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    slow = site.url("video", total_rate=len(source) // 8)  # about 8 s for the whole file
    server = launch("first", data="shared")
    job_id = _add(server, slow)
    wait_for(server, job_id, lambda j: fraction_fetched(j) >= 0.7, "70 % fetched")
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    sent_before = site.stats.bytes_sent
    assert not list(downloads.glob(f"{job_id}/*"))  # nothing published half

    again = launch("second", data="shared")
    job = wait_for(again, job_id, lambda j: j["state"] in FINAL, "the job to end")
    assert job["state"] == "done", job
    assert job["attempts"] >= 2  # more when a run on a busy machine missed a renewal
    [item] = job["items"]
    assert [p.name for p in (downloads / job_id).iterdir()] == [item["file"]]
    assert (downloads / job_id / item["file"]).read_bytes() == source
    fetched_after = site.stats.bytes_sent - sent_before
    assert fetched_after < len(source)  # it went on from what was on disk
    assert site.stats.bytes_sent < 2 * len(source)
    assert not (downloads / ".mediadl-work" / job_id).exists()


def _cancel(server: Server, job_id: str) -> dict[str, Any]:
    answer = httpx.post(f"{server.base}/api/v1/jobs/{job_id}/cancel", timeout=30)
    assert answer.status_code == 202, answer.text
    return wait_for(server, job_id, lambda j: j["state"] in FINAL, "the job to stop")


def test_cancel_during_the_fetch(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("cancel-fetch")
    slow = site.url("video", total_rate=100_000)
    job_id = _add(server, slow)
    wait_for(server, job_id, lambda j: fraction_fetched(j) > 0, "the fetch to start")
    assert (downloads / ".mediadl-work" / job_id).exists()
    assert len(job_children(server.proc.pid)) == 1
    job = _cancel(server, job_id)
    assert job["state"] == "cancelled"
    assert [i["state"] for i in job["items"]] == ["cancelled"]
    assert not (downloads / ".mediadl-work" / job_id).exists()
    assert not list(downloads.glob(f"{job_id}/*"))
    assert processes_mentioning(job_id) == []
    assert job_children(server.proc.pid) == []


def test_cancel_while_the_link_is_read(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("cancel-resolve")
    job_id = _add(server, site.url("video", latency=60_000))  # the page takes a minute
    wait_for(server, job_id, lambda j: j["state"] == "running", "the job to start")
    job = _cancel(server, job_id)
    assert (job["state"], job["items"]) == ("cancelled", [])
    assert job_children(server.proc.pid) == []
    assert not (downloads / ".mediadl-work" / job_id).exists()


def test_cancel_during_ffmpeg(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path, tmp_path: Path
) -> None:
    # The real ffmpeg, made to read its input at the media's own pace (-re): a mux of the
    # 60-second video then lasts about a minute, long enough to be cancelled in the middle.
    slowed = tmp_path / "ffmpeg-re"
    slowed.write_text(f'#!/bin/sh\nexec "{real_ffmpeg()}" -re "$@"\n')
    slowed.chmod(0o755)
    server = launch("cancel-mux", MEDIADL_FFMPEG=str(slowed))
    job_id = _add(server, site.url("dash"))
    wait_for(server, job_id, lambda j: _stage(j) == "mux", "ffmpeg to start")
    assert any("ffmpeg" in p for p in processes_mentioning(job_id))
    job = _cancel(server, job_id)
    assert job["state"] == "cancelled"
    assert not (downloads / ".mediadl-work" / job_id).exists()
    assert not list(downloads.glob(f"{job_id}/*"))
    assert processes_mentioning(job_id) == []
    assert job_children(server.proc.pid) == []


def test_a_cancelled_job_can_be_retried(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("retry")
    job_id = _add(server, site.url("audio", total_rate=200_000), audio="best")
    wait_for(server, job_id, lambda j: fraction_fetched(j) > 0, "the fetch to start")
    job = _cancel(server, job_id)
    assert job["state"] == "cancelled"
    again = httpx.post(f"{server.base}/api/v1/jobs/{job_id}/retry", timeout=30)
    assert (again.status_code, again.json()["state"]) == (202, "queued")
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the retried job to end")
    assert job["state"] == "done", job
    saved = downloads / job_id / job["items"][0]["file"]
    assert saved.read_bytes() == site.media["audio_m4a"].read_bytes()
    twice = httpx.post(f"{server.base}/api/v1/jobs/{job_id}/retry", timeout=30)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "jobs.conflict")


def _stage(job: dict[str, Any]) -> str | None:
    return job["items"][0]["stage"] if job["items"] else None


def real_ffmpeg() -> str:
    return shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()


def test_a_playlist_is_one_job_with_an_item_per_video(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("playlist")
    every = _add(server, site.url("post"))
    second = _add(server, site.url("post"), items=[2])
    both = wait_for(server, every, lambda j: j["state"] in FINAL, "the whole post")
    one = wait_for(server, second, lambda j: j["state"] in FINAL, "its second video")
    assert (both["state"], one["state"]) == ("done", "done")
    assert [i["index"] for i in both["items"]] == [1, 2]
    assert [i["index"] for i in one["items"]] == [2]
    assert len({i["file"] for i in both["items"]}) == 2
    assert sorted(p.name for p in (downloads / every).iterdir()) == sorted(
        i["file"] for i in both["items"]
    )
    mine = (downloads / second / one["items"][0]["file"]).read_bytes()
    theirs = (downloads / every / both["items"][1]["file"]).read_bytes()
    assert mine == theirs


def test_a_server_stopped_mid_job_hands_it_to_the_next_start(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    server = launch("stopping", data="kept", MEDIADL_JOB_LEASE="600")  # no lease expiry here
    job_id = _add(server, site.url("video", total_rate=len(source) // 8))
    wait_for(server, job_id, lambda j: fraction_fetched(j) >= 0.5, "half fetched")
    server.stop()  # SIGTERM: the run is stopped and the job put back on the queue
    assert "Application shutdown complete" in server.log.read_text()
    again = launch("restarted", data="kept", MEDIADL_JOB_LEASE="600")
    job = wait_for(again, job_id, lambda j: j["state"] in FINAL, "the job to end")
    assert (job["state"], job["attempts"]) == ("done", 2)
    assert (downloads / job_id / job["items"][0]["file"]).read_bytes() == source
