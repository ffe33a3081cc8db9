"""`mediadl jobs` against a real server: add, show, list, rm, and an error's code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mediadl_fixtures.server import FixtureSite
from support.jobs import wait_for
from support.server import Server

pytestmark = pytest.mark.slow


def _jobs(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediadl", "jobs", *args, "--server", server.base],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_jobs_command(
    launch: Callable[..., Server], site: FixtureSite, downloads: Path
) -> None:
    server = launch("cli")
    added = _jobs(server, "add", site.url("audio"), "-a", "best", "--json")
    assert added.returncode == 0, added.stderr
    job_id = json.loads(added.stdout)["id"]
    wait_for(server, job_id, lambda j: j["state"] == "done", "the job to finish")
    shown = _jobs(server, "show", job_id)
    assert shown.returncode == 0
    assert "done" in shown.stdout
    assert f"/api/v1/jobs/{job_id}/files/1" in shown.stdout
    listed = _jobs(server, "list", "--state", "done", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)["jobs"]] == [job_id]
    saved = _jobs(server, "retry", job_id, "--item", "1")
    assert saved.returncode == 1
    assert "jobs.conflict" in saved.stderr and "saved already" in saved.stderr
    removed = _jobs(server, "rm", job_id)
    assert removed.returncode == 0
    assert not (downloads / job_id).exists()
    missing = _jobs(server, "show", job_id)
    assert missing.returncode == 1
    assert "jobs.not_found" in missing.stderr
