"""The service in-process (httpx + ASGITransport, lifespan run) and as real processes."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mediadl.service import create_app
from mediadl.service.source import Opener, open_format
from mediadl.settings import Settings

SECRET = "test-secret-0123456789abcdef"
BASE = "http://mediadl.test"
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def with_settings(settings: Settings, **overrides: object) -> Settings:
    """A validated copy of ``settings`` with ``overrides``."""
    return Settings.model_validate({**settings.model_dump(), **overrides})


@pytest.fixture
def service_settings(settings: Settings) -> Settings:
    return with_settings(settings, secret=SECRET, resolve_cache_ttl=60.0)


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(service_settings: Settings) -> AppFactory:
    def make(opener: Opener = open_format, **overrides: object) -> FastAPI:
        return create_app(with_settings(service_settings, **overrides), opener=opener)

    return make


@pytest.fixture
async def app(make_app: AppFactory) -> AsyncIterator[FastAPI]:
    app = make_app()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with open_client(app) as client:
        yield client


def open_client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=BASE, timeout=60)


@pytest.fixture
def client_for() -> Callable[[FastAPI], httpx.AsyncClient]:
    """An in-process client for an app a test made itself (run its lifespan too)."""
    return open_client


# --- real server processes ----------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    tmp: Path, name: str, *, secret: str | None = SECRET, data: str | None = None, **env: str
) -> Server:
    """``mediadl serve`` on a free port; no ``secret``: the one kept in its data directory."""
    port = free_port()
    log = tmp / f"{name}.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    environ |= {"MEDIADL_DATA_DIR": str(tmp / f"{data or name}-data"), "MEDIADL_READ_TIMEOUT": "10"}
    if secret is not None:
        environ["MEDIADL_SECRET"] = secret
    environ |= env
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mediadl",
                "serve",
                "--port",
                str(port),
                "--allow-network",
                "127.0.0.2/32",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environ,
        )
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server didn't start: {log.read_text()}")


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start more servers (``launch("b", secret=...)``); all stopped at the end."""
    started: list[Server] = []

    def start(name: str, **options: Any) -> Server:
        started.append(start_server(tmp_path, name, **options))
        return started[-1]

    try:
        yield start
    finally:
        for running in started:
            running.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("serve"), "a")
    try:
        yield running
    finally:
        running.stop()
