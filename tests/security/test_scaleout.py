"""Rate limits and download slots shared by replicas through Redis: a real redis-server on
loopback, two servers."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mediadl import errors
from mediadl.service.slots import RedisSlots
from mediadl_fixtures.server import FixtureSite
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


# --- download slots ------------------------------------------------------------------------------


async def test_redis_slots_count_every_replica(redis_url: str) -> None:
    one, two = (RedisSlots(redis_url, per_client=2, total=3, ttl=30) for _ in range(2))
    try:
        first = await one.acquire("a")
        await two.acquire("a")
        with pytest.raises(errors.TooManyStreams):
            await one.acquire("a")
        await two.acquire("b")
        with pytest.raises(errors.ServerBusy):
            await one.acquire("c")
        await first.release()
        await first.release()  # once only: a second release gives back nothing more
        await two.acquire("c")
        with pytest.raises(errors.ServerBusy):
            await one.acquire("d")
    finally:
        await one.close()
        await two.close()


async def test_a_running_stream_keeps_its_slot_past_the_ttl(redis_url: str) -> None:
    slots = RedisSlots(redis_url, per_client=5, total=1, ttl=1)
    try:
        held = await slots.acquire("a")
        await asyncio.sleep(2.5)  # its heartbeat comes every third of a second
        with pytest.raises(errors.ServerBusy):
            await slots.acquire("b")
        await held.release()
        await (await slots.acquire("b")).release()
    finally:
        await slots.close()


def _open(streams: ExitStack, client: httpx.Client, url: str) -> httpx.Response:
    """A tunnel's answer with its headers read and its body left waiting: while the connection
    stays open the server holds the stream's slot."""
    return streams.enter_context(client.stream("GET", url))


def _refusal(client: httpx.Client, url: str) -> tuple[int, Any]:
    with client.stream("GET", url) as response:
        if response.status_code == 200:
            return 200, None
        response.read()
        return response.status_code, response.json()["error"]["code"]


def _open_when_free(streams: ExitStack, client: httpx.Client, url: str) -> None:
    """Open a stream as soon as a slot is free (a refused one is tried again).

    ``GUARD`` only keeps a slot that never comes back from hanging the run."""
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        response = _open(streams, client, url)
        if response.status_code == 200:
            return
        response.read()
        assert (response.status_code, response.json()["error"]["code"]) == (503, "server.busy")
        response.close()
        time.sleep(0.1)
    pytest.fail(f"no slot came back within {GUARD} s")


GUARD = 60.0


def test_replicas_share_the_download_slots(launch: Any, redis_url: str, site: FixtureSite) -> None:
    """Two servers, two slots in all: the third stream is refused on either server; a slot comes
    back when its stream ends, and when its server dies, once its heartbeat is stale."""
    shared = {
        "MEDIADL_RATE_LIMIT_STORAGE": redis_url,
        "MEDIADL_MAX_STREAMS": "2",
        "MEDIADL_MAX_STREAMS_PER_CLIENT": "10",
        "MEDIADL_STREAM_SLOT_TTL": "2",
    }
    one, two = launch("one", **shared), launch("two", **shared)
    page = site.url("video", total_rate=50_000)  # ~3 MB: a minute; nobody reads it anyway
    made = httpx.post(f"{one.base}/api/v1/download", json={"url": page}, timeout=30)
    assert made.status_code == 200, made.text
    tunnel = urlsplit(made.json()["tunnel"])
    on_one, on_two = (f"{s.base}{tunnel.path}?{tunnel.query}" for s in (one, two))
    with httpx.Client(timeout=30) as client, ExitStack() as streams:
        first, second = _open(streams, client, on_one), _open(streams, client, on_two)
        assert (first.status_code, second.status_code) == (200, 200)
        assert _refusal(client, on_one) == (503, "server.busy")
        assert _refusal(client, on_two) == (503, "server.busy")

        first.close()  # its stream ends: its slot comes back
        _open_when_free(streams, client, on_one)
        assert _refusal(client, on_one) == (503, "server.busy")

        two.proc.kill()  # a replica dies holding a slot, with no chance to give it back
        two.proc.wait()
        assert _refusal(client, on_one) == (503, "server.busy")  # not given back...
        _open_when_free(streams, client, on_one)  # ... but lapsed once its heartbeat is stale
