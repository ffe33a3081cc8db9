"""Real processes for the jobs tests: `mediadl serve`, `mediadl worker`, a real redis-server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mediadl.jobs.redis_store import RedisStore
from mediadl.jobs.store import JobStore, SqliteStore
from support.server import FIXTURE_NETWORK, Server, free_port, start_server


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `make system-deps` installs it")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
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


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def jobs_env(downloads: Path) -> dict[str, str]:
    """Jobs on and open, files in ``downloads``, a short lease so a dead worker is seen soon."""
    return {
        "MEDIADL_JOBS": "true",
        "MEDIADL_JOBS_OPEN": "true",
        "MEDIADL_DOWNLOAD_DIR": str(downloads),
        "MEDIADL_JOB_LEASE": "5",
    }


@pytest.fixture
def launch(tmp_path: Path, jobs_env: dict[str, str]) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(name: str, data: str | None = None, **env: str) -> Server:
        server = start_server(tmp_path, name, env={**jobs_env, **env}, data=data)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def launch_worker(
    tmp_path: Path, jobs_env: dict[str, str]
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, **env: str) -> subprocess.Popen[bytes]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
        environ |= {"MEDIADL_DATA_DIR": str(tmp_path / f"{name}-data"), **jobs_env, **env}
        with (tmp_path / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mediadl", "worker", "--allow-network", FIXTURE_NETWORK],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environ,
            )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    """Each job store, the embedded one and Redis's, empty."""
    made: JobStore
    if request.param == "sqlite":
        made = SqliteStore(tmp_path / "jobs.db")
    else:
        made = RedisStore(request.getfixturevalue("redis_url"))
    yield made
    made.close()
