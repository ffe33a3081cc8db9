"""Rate limits shared by replicas through Redis: a real redis-server on loopback, two servers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.server import free_port

pytestmark = pytest.mark.slow

INSIDE = {"url": "http://127.0.0.3:9/"}


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `make system-deps` installs it")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_replicas_share_one_limit_through_redis(launch: Any, redis_url: str) -> None:
    shared = {"MEDIADL_RATE_LIMIT_STORAGE": redis_url, "MEDIADL_RATE_LIMIT": "4/minute"}
    one, two = launch("one", **shared), launch("two", **shared)
    answers = []
    for server in (one, two, one, two, one, two):
        answers.append(httpx.post(f"{server.base}/api/v1/resolve", json=INSIDE, timeout=30))
    assert [a.status_code for a in answers] == [403, 403, 403, 403, 429, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:4]] == ["3", "2", "1", "0"]


def test_a_lost_redis_fails_closed(launch: Any, tmp_path: Path) -> None:
    server = launch("orphan", MEDIADL_RATE_LIMIT_STORAGE=f"redis://127.0.0.1:{free_port()}/0")
    answer = httpx.post(f"{server.base}/api/v1/resolve", json=INSIDE, timeout=30)
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "server.busy")
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
