"""One request id follows a job through JSON logs: the replica that took it, the worker that ran
it and the job's own process; and the job metrics every replica reads from the shared store."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mediadl_fixtures.server import FixtureSite
from support.jobs import wait_for
from support.server import Server

pytestmark = pytest.mark.slow

JSON_LOGS = {"MEDIADL_LOG_FORMAT": "json"}
OPEN_METRICS = {"MEDIADL_METRICS": "true", "MEDIADL_METRICS_OPEN": "true"}


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Every whole line of ``log``, each of which must be one JSON object."""
    text = log.read_text()
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line in {log.name}: {line!r}")
        assert isinstance(record, dict)
        assert {"time", "level", "logger", "message", "request_id"} <= record.keys(), record
        records.append(record)
    return records


def story(log: Path, rid: str) -> list[dict[str, Any]]:
    return [r for r in json_lines(log) if r["request_id"] == rid]


def job_series(server: Server) -> dict[str, float]:
    answer = httpx.get(f"{server.base}/metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    out = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name.startswith("mediadl_job"):
                out[sample.name + json.dumps(sample.labels, sort_keys=True)] = sample.value
    return out


def add_job(server: Server, site: FixtureSite, rid: str) -> tuple[str, httpx.Response]:
    answer = httpx.post(
        f"{server.base}/api/v1/jobs",
        json={"url": site.pages["video"], "metadata": False},
        headers={"X-Request-ID": rid},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"], answer


def test_a_request_id_follows_a_job_across_replicas_and_a_worker(
    launch: Callable[..., Server],
    launch_worker: Callable[..., subprocess.Popen[bytes]],
    site: FixtureSite,
    tmp_path: Path,
    redis_url: str,
) -> None:
    env = {"MEDIADL_QUEUE": redis_url, **JSON_LOGS, **OPEN_METRICS}
    one, two = launch("one", **env), launch("two", **env)
    launch_worker("w1", **env)
    rid = f"trace-{secrets.token_hex(8)}"

    job_id, answer = add_job(one, site, rid)
    assert answer.headers["x-request-id"] == rid
    job = wait_for(two, job_id, lambda j: j["state"] in ("done", "failed"), "the job to end")
    assert job["state"] == "done", job
    followed = httpx.get(f"{two.base}/api/v1/jobs/{job_id}", headers={"X-Request-ID": rid})
    assert followed.headers["x-request-id"] == rid

    taken = story(one.log, rid)
    access = [r for r in taken if r["logger"] == "uvicorn.access"]
    assert [(r["method"], r["path"], r["status"]) for r in access] == [
        ("POST", "/api/v1/jobs", 202)
    ]
    assert access[0]["client"].startswith("127.0.0.1:")
    assert [(r["method"], r["status"]) for r in story(two.log, rid)] == [("GET", 200)]
    ran = story(tmp_path / "w1.log", rid)
    by_logger = {r["logger"] for r in ran}
    assert {"mediadl.jobs.runner", "mediadl.jobs.child"} <= by_logger, ran
    messages = [r["message"] for r in ran]
    assert any(m.startswith(f"job {job_id}: running on") for m in messages), messages
    assert any(m.startswith(f"job {job_id}: started in process") for m in messages), messages
    assert any(m.startswith(f"job {job_id} item 1: saved") for m in messages), messages
    assert f"job {job_id}: done" in messages
    # lines of other work don't borrow the id
    assert all(r["request_id"] != rid for r in json_lines(one.log) if r not in taken)

    # the job metrics come from the shared store: both replicas say the same
    seen = job_series(one)
    assert seen == job_series(two)
    assert seen['mediadl_jobs{"state": "done"}'] == 1
    assert seen['mediadl_jobs{"state": "queued"}'] == 0
    assert seen["mediadl_job_queue_length{}"] == 0
    assert seen["mediadl_job_workers{}"] == 1
    assert seen["mediadl_job_store_up{}"] == 1


def test_embedded_jobs_log_json_and_count_their_worker(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    server = launch("embedded", **JSON_LOGS, **OPEN_METRICS)
    insane = "no spaces allowed " + "x" * 200
    answer = httpx.get(f"{server.base}/healthz", headers={"X-Request-ID": insane}, timeout=30)
    made = answer.headers["x-request-id"]
    assert made != insane and len(made) == 16 and int(made, 16) >= 0

    rid = secrets.token_hex(8)
    job_id, _ = add_job(server, site, rid)
    job = wait_for(server, job_id, lambda j: j["state"] in ("done", "failed"), "the job to end")
    assert job["state"] == "done", job

    lines = story(server.log, rid)
    loggers = {r["logger"] for r in lines}
    assert {"uvicorn.access", "mediadl.jobs.runner", "mediadl.jobs.child"} <= loggers, lines

    # a link read in the server's own extraction process: its lines are JSON and name the request
    read = secrets.token_hex(8)
    missing = httpx.post(
        f"{server.base}/api/v1/resolve",
        json={"url": site.url("/pages/missing.html")},
        headers={"X-Request-ID": read},
        timeout=60,
    )
    assert missing.json()["error"]["code"] == "content.unavailable"
    extracting = [r for r in story(server.log, read) if r["logger"] == "mediadl.ytdl"]
    assert any("404" in r["message"] for r in extracting), story(server.log, read)
    assert not story(server.log, insane)
    assert [r["path"] for r in story(server.log, made)] == ["/healthz"]
    seen = job_series(server)
    assert seen['mediadl_jobs{"state": "done"}'] == 1
    assert seen["mediadl_job_workers{}"] == 1  # the one inside mediadl serve
    assert seen["mediadl_job_queue_length{}"] == 0
