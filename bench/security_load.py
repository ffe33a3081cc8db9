"""Load on a real ``mediadl serve`` with its default limits: do they engage, does it stay quick?

    .venv/bin/python bench/security_load.py [--resolves 500] [--concurrency 50] [--tunnels 100]
    .venv/bin/python bench/security_load.py --case slow-clients [--rounds 5]
    .venv/bin/python bench/security_load.py --case descriptors [--seconds 30]

Everything is on loopback: the fixture site on 127.0.0.2, the server on 127.0.0.1.

``load`` (the default): phase 1 sends ``--resolves`` resolve requests, ``--concurrency`` at a
time, from one client; phase 2 opens ``--tunnels`` tunnels at once, each as another client
(X-Forwarded-For from a trusted proxy), read slowly so they hold their download slot. Meanwhile
``/healthz`` is timed every 50 ms.

``slow-clients`` (:mod:`security_leaving`): a client opens a tunnel to a video that drips, or
that comes 5 bytes per connection, and leaves once the server is at work; how long until its
slot, its ffmpeg and its connections to the site are gone, and how many requests the site got
after it left.

``descriptors`` (:mod:`security_leaving`): the server at 256 descriptors; one client opens as
many progress streams and unfinished request heads as it can for ``--seconds``, while another
polls ``/healthz``: the share of answers and their latency.

Bounded in count and time; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from mediadl_fixtures.threaded import running_site

PORT = 18090


SECRET = "load-secret-0123456789abcdef"


def start_server(
    folder: Path, extra: dict[str, str] | None = None, program: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    env |= {
        "MEDIADL_DATA_DIR": str(folder / "data"),
        "MEDIADL_SECRET": SECRET,
        "MEDIADL_TRUSTED_PROXIES": "127.0.0.1/32",
        "MEDIADL_RESOLVE_CACHE_TTL": "0",
        **(extra or {}),
    }
    command = [
        *program,
        sys.executable,
        "-m",
        "mediadl",
        "serve",
        "--port",
        str(PORT),
        "--allow-network",
        "127.0.0.2/32",
        "--log-level",
        "warning",
    ]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).json()["warm"]:
                return proc
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.2)
    proc.kill()
    sys.exit("security_load: the server didn't start")


async def probe_health(client: httpx.AsyncClient, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        if response.status_code == 200:
            out.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)


async def resolves(client: httpx.AsyncClient, url: str, total: int, width: int) -> Counter[str]:
    gate = asyncio.Semaphore(width)
    seen: Counter[str] = Counter()

    async def one() -> None:
        async with gate:
            answer = await client.post("/api/v1/resolve", json={"url": url})
            seen[f"{answer.status_code} {_code(answer)}"] += 1

    await asyncio.gather(*(one() for _ in range(total)))
    return seen


async def tunnels(client: httpx.AsyncClient, link: str, total: int) -> Counter[str]:
    seen: Counter[str] = Counter()

    async def one(n: int) -> None:
        headers = {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}
        async with client.stream("GET", link, headers=headers) as answer:
            if answer.status_code != 200:
                await answer.aread()
                seen[f"{answer.status_code} {_code(answer)}"] += 1
                return
            seen["200 stream"] += 1
            async for _chunk in answer.aiter_bytes(1 << 16):
                await asyncio.sleep(0.2)  # a slow reader keeps its slot

    await asyncio.gather(*(one(n) for n in range(total)))
    return seen


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def run(args: argparse.Namespace, page: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.tunnels + args.concurrency + 10)
    base = f"http://127.0.0.1:{PORT}"
    async with (
        httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client,
        httpx.AsyncClient(base_url=base, timeout=30) as health,
    ):
        made = await client.post(
            "/api/v1/download", json={"url": page}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        link = made.json()["tunnel"]
        latencies: list[float] = []
        stop = asyncio.Event()
        prober = asyncio.create_task(probe_health(health, stop, latencies))
        started = time.monotonic()
        resolved = await resolves(client, page, args.resolves, args.concurrency)
        phase1 = time.monotonic() - started
        started = time.monotonic()
        streamed = await tunnels(client, link, args.tunnels)
        phase2 = time.monotonic() - started
        stop.set()
        await prober
    return {
        "resolves": dict(resolved),
        "resolve_seconds": round(phase1, 2),
        "tunnels": dict(streamed),
        "tunnel_seconds": round(phase2, 2),
        "healthz_samples": len(latencies),
        "healthz_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "healthz_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "healthz_max_ms": round(max(latencies, default=0) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=["load", "slow-clients", "descriptors"], default="load")
    parser.add_argument("--rounds", type=int, default=5, help="slow-clients: leaves per case")
    parser.add_argument("--seconds", type=float, default=30, help="descriptors: how long")
    parser.add_argument("--resolves", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--tunnels", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.case != "load":
        from security_leaving import run_case

        result = run_case(args, start_server, PORT, SECRET)
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return
    with (
        running_site("127.0.0.2", total_rate=4_000_000) as site,
        tempfile.TemporaryDirectory(prefix="mediadl-load-") as tmp,
    ):
        server = start_server(Path(tmp))
        try:
            result = asyncio.run(asyncio.wait_for(run(args, site.pages["video"]), 600))
        finally:
            server.terminate()
            server.wait(10)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
