"""``mediadl serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["FIXTURE_NETWORK", "Server", "free_port", "launching", "serving", "start_server"]

FIXTURE_NETWORK = "127.0.0.2/32"
"""The fixture site's address: the one private network a test server may reach."""


@dataclass
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
    folder: Path,
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = ("--allow-network", FIXTURE_NETWORK),
    data: str | None = None,
    seconds: float = 60,
    program: Sequence[str] = (sys.executable, "-m", "mediadl"),
    cwd: Path | None = None,
) -> Server:
    """Start a server with a clean ``MEDIADL_*`` environment plus ``env``; return once it is warm.

    ``data`` names the data directory (servers sharing one share its secret); default: ``name``.
    ``program`` runs mediadl (e.g. the installed ``mediadl`` script), from ``cwd``.
    """
    port = free_port()
    log = folder / f"{name}.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    environ["MEDIADL_DATA_DIR"] = str(folder / f"{data or name}-data")
    environ |= dict(env or {})
    command = [*program, "serve", "--port", str(port), *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=cwd)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            health = httpx.get(f"{server.base}/healthz", timeout=1)
            if health.status_code == 200 and health.json().get("warm"):
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server didn't start: {log.read_text()}")


@contextmanager
def serving(folder: Path, name: str = "serve", **options: object) -> Iterator[Server]:
    """A running server (same options as :func:`start_server`) until the block ends."""
    running = start_server(folder, name, **options)  # type: ignore[arg-type]
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def launching(start: Callable[..., Server]) -> Iterator[Callable[..., Server]]:
    """``start`` as a launcher for a test: every server it started is stopped at the end."""
    started: list[Server] = []

    def launch(*args: object, **options: object) -> Server:
        started.append(start(*args, **options))
        return started[-1]

    try:
        yield launch
    finally:
        for running in started:
            running.stop()
