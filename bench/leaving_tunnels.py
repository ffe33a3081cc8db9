"""Tunnels whose clients leave early: N DASH remux tunnels at once through one ``mediadl serve``,
some of whose clients hang up at a random moment (often while the server is still connecting to
the site), for some rounds; then whether every other tunnel brought the right bytes and whether
the server is still alive.

    .venv/bin/python bench/leaving_tunnels.py [--loop asyncio|uvloop] [--clients 64]
        [--rounds 4] [--leave 0.5]

The fixture site runs on 127.0.0.2 (a process of its own), the server on 127.0.0.1 with
``PYTHONFAULTHANDLER=1`` and its stderr kept: a crash shows its signal and its last lines.
Bounded: a fixed number of rounds, each transfer with a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from server_procs import SECRET, SiteProcess, free_port

TIMEOUT = 120.0
LAUNCH = {
    "uvloop": "from mediadl.cli import main; main()",
    "asyncio": "import uvicorn.loops.auto as a, uvicorn.loops.asyncio as b; "
    "a.auto_loop_factory = b.asyncio_loop_factory; from mediadl.cli import main; main()",
}
GDB = ["gdb", "-q", "-batch", "-ex", "handle SIGPIPE SIGCHLD SIGTERM nostop noprint pass",
       "-ex", "run", "-ex", "bt 30", "-ex", "info threads"]  # fmt: skip
"""``mediadl serve`` on uvloop (what uvicorn's ``auto`` picks when it is installed) or on
asyncio's own loop."""


@dataclass
class Tally:
    whole: int = 0
    left: int = 0
    wrong: list[str] = field(default_factory=list)


def start_server(
    data: Path, loop: str, log: Path, gdb: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    env |= {
        "MEDIADL_SECRET": SECRET,
        "PYTHONFAULTHANDLER": "1",
        "MEDIADL_DATA_DIR": str(data),
        "MEDIADL_MAX_STREAMS": "1000",
        "MEDIADL_MAX_STREAMS_PER_CLIENT": "1000",
        "MEDIADL_MAX_CONNECTIONS_PER_CLIENT": "2000",
        "MEDIADL_RATE_LIMIT": "100000/minute",
        "MEDIADL_RATE_LIMIT_MEDIA": "100000/minute",
    }
    command = [sys.executable, "-c", LAUNCH[loop], "serve", "--port", str(port),
               "--allow-network", "127.0.0.2/32", "--log-level", "warning"]  # fmt: skip
    if gdb:  # a native crash: its C stack (libuv's, ffmpeg's, PyAV's) in the log
        command = [*GDB, "--args", *command]
    proc = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).json().get("warm"):
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("mediadl serve didn't start")


async def one(client: httpx.AsyncClient, url: str, leave_after: float | None, want: str) -> str:
    """``whole``, ``left`` or what went wrong."""
    digest = hashlib.sha256()

    async def read() -> None:
        async with client.stream("GET", url) as r:
            if r.status_code != 200:
                raise RuntimeError(f"status {r.status_code}")
            async for chunk in r.aiter_raw():
                digest.update(chunk)

    try:
        if leave_after is None:
            await asyncio.wait_for(read(), TIMEOUT)
        else:
            await asyncio.wait_for(read(), leave_after)
    except TimeoutError:
        return "left" if leave_after is not None else "timeout"
    except (httpx.HTTPError, RuntimeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if digest.hexdigest() != want:
        return "wrong bytes"
    return "whole"


async def round_(url: str, clients: int, leave: float, want: str, rng: random.Random) -> Tally:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)
    tally = Tally()
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:
        plan = [rng.uniform(0.0, 0.3) if rng.random() < leave else None for _ in range(clients)]
        results = await asyncio.gather(*(one(client, url, p, want) for p in plan))
    for result in results:
        if result == "whole":
            tally.whole += 1
        elif result == "left":
            tally.left += 1
        else:
            tally.wrong.append(result)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="uvloop")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--leave", type=float, default=0.5, help="share of clients that leave")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gdb", action="store_true", help="run the server under gdb")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    site_port = free_port("127.0.0.2")
    with tempfile.TemporaryDirectory() as tmp, SiteProcess("127.0.0.2", site_port) as site:
        log = Path(tmp) / "serve.log"
        proc, base = start_server(Path(tmp) / "data", args.loop, log, args.gdb)
        try:
            page = site.site.pages["dash"]
            choice = {"url": page, "quality": 720}
            r = httpx.post(f"{base}/api/v1/download", json=choice, timeout=60)
            url = r.raise_for_status().json()["tunnel"]
            with httpx.stream("GET", url, timeout=TIMEOUT) as first:
                want = hashlib.sha256(first.read()).hexdigest()
            failures = 0
            for n in range(args.rounds):
                started = time.monotonic()
                tally = asyncio.run(round_(url, args.clients, args.leave, want, rng))
                failures += len(tally.wrong)
                alive = proc.poll() is None
                print(
                    f"round {n + 1}: {tally.whole} whole, {tally.left} left, "
                    f"{len(tally.wrong)} failed {sorted(set(tally.wrong))[:3]}, "
                    f"{time.monotonic() - started:.1f} s, server "
                    f"{'alive' if alive else f'exited {proc.returncode}'}",
                    flush=True,
                )
                if not alive:
                    break
            healthy = proc.poll() is None and httpx.get(f"{base}/healthz", timeout=10).is_success
        finally:
            code = proc.poll()
            if code is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        tail = log.read_text(errors="replace").strip().splitlines()[-40:]
    print(f"loop {args.loop}: {failures} failed tunnels, server exit "
          f"{_signal_name(code)}, healthy to the end: {healthy}")  # fmt: skip
    if tail:
        print("server stderr (last lines):\n  " + "\n  ".join(tail))
    return 0 if healthy and not failures else 1


def _signal_name(code: int | None) -> str:
    if code is None:
        return "none (still running)"
    return signal.Signals(-code).name if code < 0 else str(code)


if __name__ == "__main__":
    sys.exit(main())
