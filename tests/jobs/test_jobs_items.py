"""One item of a playlist job retried on its own; the downloads folder's quota and the file size
limit checked when a job starts and before each file is published."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mediadl.jobs import Item, Job, JobState, new_job_id
from mediadl.jobs.store import SqliteStore
from mediadl_fixtures.server import FixtureSite
from support.jobs import fraction_fetched, wait_for
from support.server import Server

pytestmark = pytest.mark.slow

FINAL = ("done", "failed", "cancelled")


def _add(server: Server, url: str, **choice: object) -> str:
    answer = httpx.post(
        f"{server.base}/api/v1/jobs", json={"url": url, "metadata": False, **choice}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _retry_item(server: Server, job_id: str, index: int) -> httpx.Response:
    return httpx.post(f"{server.base}/api/v1/jobs/{job_id}/items/{index}/retry", timeout=30)


def test_a_failed_item_is_retried_alone(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    # clip1 (the post's first video) is larger than the limit, clip2 smaller: item 1 fails
    sizes = [site.media["clip1"].stat().st_size, site.media["clip2"].stat().st_size]
    assert sizes[0] > 150_000 > sizes[1]
    server = launch("items", data="items", MEDIADL_MAX_FILESIZE="150000")
    job_id = _add(server, site.url("post"))
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the post to end")
    assert job["state"] == "failed"
    first, second = job["items"]
    assert (first["state"], first["error"]["code"]) == ("failed", "content.too_large")
    assert second["state"] == "done"
    kept = downloads / job_id / second["file"]
    before = kept.stat()

    done = _retry_item(server, job_id, 2)
    assert (done.status_code, done.json()["error"]["code"]) == (409, "jobs.conflict")
    none = _retry_item(server, job_id, 3)
    assert (none.status_code, none.json()["error"]["code"]) == (404, "jobs.not_found")

    server.stop()  # the operator raises the limit
    again = launch("items-again", data="items")
    answer = _retry_item(again, job_id, 1)
    assert answer.status_code == 202, answer.text
    assert answer.json()["state"] == "queued"
    assert [i["state"] for i in answer.json()["items"]] == ["queued", "done"]
    job = wait_for(again, job_id, lambda j: j["state"] in FINAL, "the retried item")
    assert job["state"] == "done", job
    first, second = job["items"]
    assert first["state"] == "done"
    assert (downloads / job_id / first["file"]).read_bytes() == site.media["clip1"].read_bytes()
    after = kept.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in (downloads / job_id).iterdir()) == sorted(
        [first["file"], second["file"]]
    )
    assert job["attempts"] == 2


def test_an_item_of_a_running_job_is_not_retried(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    server = launch("items-running")
    job_id = _add(server, site.url("video", total_rate=100_000))
    wait_for(server, job_id, lambda j: fraction_fetched(j) > 0, "the fetch to start")
    answer = _retry_item(server, job_id, 1)
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "jobs.conflict")
    assert httpx.post(f"{server.base}/api/v1/jobs/{job_id}/cancel", timeout=30).status_code == 202


def test_an_item_that_would_pass_the_quota_fails_unpublished(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    clip1, clip2 = (site.media[n].stat().st_size for n in ("clip1", "clip2"))
    quota = clip1 + clip2 // 2  # room for the first video, not for both
    server = launch("quota-items", MEDIADL_DOWNLOAD_QUOTA=str(quota))
    job_id = _add(server, site.url("post"))
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the post to end")
    assert job["state"] == "failed"
    first, second = job["items"]
    assert first["state"] == "done"
    assert (second["state"], second["error"]["code"]) == ("failed", "jobs.quota")
    assert [p.name for p in (downloads / job_id).iterdir()] == [first["file"]]
    assert not (downloads / ".mediadl-work" / job_id).exists()


def _queued_without_message(tmp_path: Path, data: str, url: str, *items: Item) -> Job:
    """A job saved as `POST` saves it (or as a retry leaves it, with ``items`` known), whose
    queue message never made it (no push)."""
    store = SqliteStore(tmp_path / f"{data}-data" / "jobs" / "jobs.db")
    job = Job(new_job_id(), "", url, {"metadata": False}, items=list(items), resolved=bool(items))
    store.add(job)
    store.close()
    return job


def test_a_job_over_the_quota_when_it_starts_fails_before_writing(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path, tmp_path: Path
) -> None:
    job = _queued_without_message(tmp_path, "full", site.url("video"))
    (downloads / "already-there.bin").write_bytes(b"x" * 4096)  # filled since it was added
    server = launch("full", data="full", MEDIADL_DOWNLOAD_QUOTA="4096")
    found = wait_for(server, job.id, lambda j: j["state"] in FINAL, "the job to end")
    assert (found["state"], found["error"]["code"], found["items"]) == ("failed", "jobs.quota", [])
    assert not (downloads / job.id).exists()
    assert not (downloads / ".mediadl-work" / job.id).exists()
    assert site.stats.bytes_sent == 0


def test_a_quota_full_at_start_fails_only_the_items_still_to_make(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path, tmp_path: Path
) -> None:
    saved = Item(1, site.url("clip1"), state=JobState.DONE, file="saved.mp4", size=4096)
    job = _queued_without_message(
        tmp_path, "full-items", site.url("post"), saved, Item(2, site.url("clip2"))
    )
    (downloads / job.id).mkdir()
    (downloads / job.id / "saved.mp4").write_bytes(b"x" * 4096)  # its first file, kept
    server = launch("full-items", data="full-items", MEDIADL_DOWNLOAD_QUOTA="4096")
    found = wait_for(server, job.id, lambda j: j["state"] in FINAL, "the job to end")
    assert (found["state"], found["error"]) == ("failed", None)
    first, second = found["items"]
    assert (first["state"], first["file"]) == ("done", "saved.mp4")
    assert (second["state"], second["error"]["code"]) == ("failed", "jobs.quota")
    assert [p.name for p in (downloads / job.id).iterdir()] == ["saved.mp4"]
    assert site.stats.bytes_sent == 0


def test_a_queued_job_whose_message_was_lost_runs_anyway(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path, tmp_path: Path
) -> None:
    job = _queued_without_message(tmp_path, "lost", site.url("video"))
    server = launch("lost", data="lost")  # lease 5 s: pushed again within about 7
    found = wait_for(server, job.id, lambda j: j["state"] in FINAL, "the job to run")
    assert (found["state"], found["attempts"]) == ("done", 1)
    [item] = found["items"]
    assert (downloads / job.id / item["file"]).read_bytes() == site.media[
        "progressive"
    ].read_bytes()
    assert "queued with no message waiting; pushed again" in server.log.read_text()


def test_a_file_grown_past_the_size_limit_by_its_tags_is_not_published(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    # the tags written into the file make it a few kB larger than the bytes fetched: every
    # byte received is under the limit, and the finished file is over it
    source = site.media["progressive"].stat().st_size
    limit = source + 1000
    server = launch("grown", MEDIADL_MAX_FILESIZE=str(limit))
    job_id = _add(server, site.url("video"), metadata=True)
    job = wait_for(server, job_id, lambda j: j["state"] in FINAL, "the job to end")
    [item] = job["items"]
    assert (job["state"], item["error"]["code"]) == ("failed", "content.too_large"), job
    assert site.stats.bytes_sent >= source  # it was fetched whole, then refused
    assert not (downloads / job_id).exists() or not list((downloads / job_id).iterdir())
    assert not (downloads / ".mediadl-work" / job_id).exists()
