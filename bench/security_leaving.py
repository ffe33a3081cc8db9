"""The slow-client and descriptor cases of ``security_load.py`` (run through it).

slow-clients: for each tunnel mode (passthrough, remux, transcode) and each slow site (a video
that drips, one that comes 5 bytes per connection), ``--rounds`` times: a client asks for the
tunnel on a bare connection, the server gets to work (the site is asked; ffmpeg runs), the client
closes. Timed from the close to the end of the check that saw it (an upper bound), polling
every 5 ms: the client's one download slot free again (a
probe tunnel that fails at once answers something else than ``429 rate.streams``), no ffmpeg
under the server, no connection to the site open; and the requests the site got after the
client left. The server's own deadlines are far out: only the leaving ends the work. (A site
sending 5 bytes per connection holds each one for a moment only: its open connections say little,
its requests after the leaving say it all.)

descriptors: the server under ``prlimit --nofile=256:256``; for ``--seconds`` one client opens
connections as fast as it can, half asking for a progress stream and keeping it, half sending
half a request head and nothing more, while another address asks ``/healthz`` every 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from mediadl.models import Choice
from mediadl.service.tokens import Signer
from mediadl_fixtures.hostile import Canary, running_hostile
from mediadl_fixtures.server import FixtureSite
from mediadl_fixtures.threaded import running_site

MEDIA = "/media/progressive.mp4"
UPSTREAMS = {"drip": "/k/rate=64", "trickle": "/k/drop=5"}
MODES: dict[str, dict[str, str]] = {
    "passthrough": {},
    "remux": {"container": "mkv"},
    "transcode": {"container": "webm"},
}
FAR = {
    "MEDIADL_READ_TIMEOUT": "600",
    "MEDIADL_FIRST_BYTE_TIMEOUT": "600",
    "MEDIADL_FETCH_MIN_SPEED": "0",
    "MEDIADL_FETCH_RETRIES": "100",
    "MEDIADL_MAX_STREAMS_PER_CLIENT": "1",
    "MEDIADL_RATE_LIMIT": "100000/minute",
    "MEDIADL_RATE_LIMIT_MEDIA": "100000/minute",
    "MEDIADL_TRUSTED_PROXIES": "",
}
POLL = 0.005
GUARD = 60.0

StartServer = Callable[..., Any]


def run_case(
    args: argparse.Namespace, start_server: StartServer, port: int, secret: str
) -> dict[str, Any]:
    base, signer = f"http://127.0.0.1:{port}", Signer(secret.encode())
    with tempfile.TemporaryDirectory(prefix="mediadl-leave-") as tmp:
        if args.case == "slow-clients":
            canary = Canary()
            canary.start()
            try:
                with (
                    running_site("127.0.0.2") as site,
                    running_hostile(canary, site.base_url) as hostile,
                ):
                    server = start_server(Path(tmp), FAR)
                    try:
                        return slow_clients(
                            base, server.pid, site, hostile.url, signer, args.rounds
                        )
                    finally:
                        server.terminate()
                        server.wait(10)
            finally:
                canary.stop()
        env = {"MEDIADL_MAX_CONNECTIONS_PER_CLIENT": "64", "MEDIADL_REQUEST_HEAD_TIMEOUT": "10"}
        server = start_server(Path(tmp), env, ("prlimit", "--nofile=256:256"))
        try:
            return asyncio.run(descriptors(base, port, signer, args.seconds))
        finally:
            server.terminate()
            server.wait(10)


# --- slow clients ---------------------------------------------------------------------------------


def slow_clients(
    base: str,
    pid: int,
    site: FixtureSite,
    url: Callable[[str], str],
    signer: Signer,
    rounds: int,
) -> dict[str, Any]:
    """Per site and mode: the medians and maxima of the times, and the requests for nobody."""
    inside = signer.tunnel("http://127.0.0.3:9/x", Choice(), item=None, ttl=3600)
    probe = f"{base}/api/v1/tunnel?t={inside}"  # refused at once, once a slot is free
    results: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=60) as api:
        for upstream, prefix in UPSTREAMS.items():
            page = url("/video-at?path=" + quote(prefix + MEDIA))
            for mode, choice in MODES.items():
                made = api.post("/api/v1/download", json={"url": page, **choice}).json()
                assert made["mode"] == mode, made
                remux = mode != "passthrough"
                runs = [
                    leave_once(made["tunnel"], remux, pid, site, api, probe) for _ in range(rounds)
                ]
                results[f"{upstream}/{mode}"] = summary(runs)
    return results


def leave_once(
    link: str, remux: bool, pid: int, site: FixtureSite, api: httpx.Client, probe: str
) -> dict[str, float]:
    site.reset_counters()
    parts = urlsplit(link)
    sock = socket.create_connection((parts.hostname, parts.port), GUARD)
    sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: b\r\n\r\n".encode())
    until(lambda: media_requests(site) > 1 and (not remux or bool(ffmpeg_children(pid))))
    left = time.perf_counter()
    sock.close()
    asked = media_requests(site)
    marks: dict[str, float] = {}
    checks: dict[str, Callable[[], bool]] = {
        "ffmpeg": lambda: not ffmpeg_children(pid),
        "upstream": lambda: site.open_connections == 0,
        "slot": lambda: api.get(probe).status_code != 429,
    }
    while len(marks) < len(checks) and time.perf_counter() - left < GUARD:
        for name, check in checks.items():
            if name not in marks and check():
                marks[name] = time.perf_counter() - left  # when the check saw it (an upper bound)
        time.sleep(POLL)
    marks["requests_after"] = media_requests(site) - asked
    return marks


def ffmpeg_children(pid: int) -> list[int]:
    """ffmpeg processes under ``pid`` (read from /proc; zombies count: not yet reaped)."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat:
            rest = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = (int(rest[1]), stat[stat.index("(") + 1 : stat.rindex(")")])
    wanted = {pid}
    for _ in range(4):  # server -> ffmpeg; deeper is never needed
        wanted |= {p for p, (parent, _name) in parents.items() if parent in wanted}
    found = [p for p in wanted if p != pid and "ffmpeg" in parents.get(p, (0, ""))[1]]
    return found


def media_requests(site: FixtureSite) -> int:
    return sum(1 for record in site.stats.log if record.path == MEDIA and record.prefix)


def until(probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + GUARD
    while not probe() and time.monotonic() < deadline:
        time.sleep(POLL)


def summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("slot", "ffmpeg", "upstream"):
        values = [run[key] for run in runs if key in run]
        out[f"{key}_ms_median"] = round(statistics.median(values) * 1000, 1) if values else None
        out[f"{key}_ms_max"] = round(max(values) * 1000, 1) if values else None
        out[f"{key}_never"] = len(runs) - len(values)
    out["requests_after_leaving"] = sum(int(run["requests_after"]) for run in runs)
    return out


# --- descriptors ----------------------------------------------------------------------------------


async def descriptors(base: str, port: int, signer: Signer, seconds: float) -> dict[str, Any]:
    token = signer.tunnel("https://example.com/x", Choice(), item=None, ttl=3600)
    stream_head = f"GET /api/v1/tunnel/events?t={token} HTTP/1.1\r\nHost: b\r\n\r\n".encode()
    held: list[asyncio.StreamWriter] = []
    seen: Counter[str] = Counter()
    latencies: list[float] = []
    failures = 0
    stop = asyncio.Event()

    async def greedy() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                seen["connect refused"] += 1
                await asyncio.sleep(0.01)
                continue
            held.append(writer)
            writer.write(stream_head if n % 2 else b"GET /healthz HTTP/1.1\r\nHo")
            asyncio.get_running_loop().create_task(read_status(reader, seen, n % 2 == 1))
            await asyncio.sleep(0)

    async def health() -> None:
        nonlocal failures
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.3")
        async with httpx.AsyncClient(base_url=base, timeout=5, transport=transport) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    ok = (await client.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1
                await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(greedy()), asyncio.create_task(health())]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for writer in held:
        writer.close()
    total = len(latencies) + failures
    return {
        "seconds": seconds,
        "greedy_connections_opened": len(held),
        "greedy_answers": dict(seen),
        "healthz_requests": total,
        "healthz_ok_ratio": round(len(latencies) / total, 4) if total else None,
        "healthz_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "healthz_p99_ms": round(sorted(latencies)[int(0.99 * (len(latencies) - 1))] * 1000, 1)
        if latencies
        else None,
        "healthz_max_ms": round(max(latencies, default=0) * 1000, 1),
    }


async def read_status(reader: asyncio.StreamReader, seen: Counter[str], stream: bool) -> None:
    """What the server made of one greedy connection: its status line, or a close."""
    kind = "event stream" if stream else "half head"
    try:
        line = await reader.readline()
    except OSError:
        line = b""
    status = line.split(b" ")[1].decode() if line.count(b" ") >= 2 else "closed"
    seen[f"{kind}: {status}"] += 1
