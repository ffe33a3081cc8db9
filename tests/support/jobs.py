"""Helpers of the jobs tests: read a job from a server, wait for a state, find processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.server import Server

TIMEOUT = 180.0
"""Seconds a test waits for a state it expects (generous: the machine is shared)."""


def job_of(server: Server, job_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.base}/api/v1/jobs/{job_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def wait_for(
    server: Server, job_id: str, until: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """Poll the job until ``until`` holds (or fail, naming ``what`` and the last state)."""
    deadline = time.monotonic() + TIMEOUT
    job = job_of(server, job_id)
    while not until(job):
        if time.monotonic() > deadline:
            pytest.fail(f"waited for {what}; the job is {job}")
        time.sleep(0.1)
        job = job_of(server, job_id)
    return job


def fraction_fetched(job: dict[str, Any]) -> float:
    items = job["items"]
    if not items or not items[0]["total"] or items[0]["stage"] != "fetch":
        return 0.0
    return float(items[0]["downloaded"]) / float(items[0]["total"])


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the processes on this machine that name ``text`` (a work folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def job_children(pid: int) -> list[str]:
    """Command lines of the job runs (``mediadl.jobs.child``) whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid and "mediadl.jobs.child" in cmdline:
            found.append(cmdline)
    return found
