"""Server at scale: N clients at once pulling tunnels through one ``mediadl serve``, beside the same
clients pulling the file from the fixture site directly (the limit) and through nginx as a plain
reverse proxy (what a proxying server costs at best); then resolve latency and tunnel memory.

    .venv/bin/python bench/server_bench.py [--quick] [--pool-off-too] [--out bench/results.md]

Everything runs on this machine: the fixture site on 127.0.0.2 (a process of its own), the server
on 127.0.0.1, nginx on 127.0.0.4 (Debian's ``nginx``, run as ``nobody`` from a temporary folder).
The clients are ``curl --parallel`` processes, one per client address (127.0.0.10 on). Memory per
open tunnel is measured on a server of its own, with 64 clients that stop reading a 1 GiB file
this script serves. Bounded: a fixed number of downloads, each with a timeout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mediadl_fixtures.server import FixtureSite
from results_file import write_section
from server_procs import (
    NginxProxy,
    Processes,
    ServeProcess,
    SiteProcess,
    free_port,
    long_file,
)

CLIENTS = (1, 16, 64, 256)
ROUND_BYTES = 400_000_000
"""Bytes each run moves at least: N clients each take ``ceil(ROUND_BYTES / N / size)`` files."""
CURL_FORMAT = "%{http_code} %{time_starttransfer} %{size_download}\\n"
OPEN_TUNNELS = 64
RSS_BUDGET = 512_000_000
"""The server tree's RSS with ``OPEN_TUNNELS`` tunnels open whose clients stopped reading."""
TUNNEL_BUDGET = 4_000_000
"""Memory one open tunnel whose client stopped reading may cost (its in-memory read-ahead is
``STREAM_MEMORY``, 1 MiB; the rest is the connections' buffers)."""
REMUX_CLIENTS = 64
"""Remux clients at once at most: 64 is the server's default ``max_streams``. Each remux is an
ffmpeg process (~55 MB) once it has one of the server's ``max_ffmpeg_tunnels`` places (the
others wait in line); 256 would wait longer than ``ffmpeg_queue_wait`` on this machine."""
SOURCES = 16
"""Client addresses (127.0.0.10 on): per-client rate limits then see 16 clients, not one."""


@dataclass
class Run:
    target: str
    payload: str
    clients: int
    seconds: float
    bytes: int
    errors: int
    ttfb: list[float]
    cpu: float
    peak_rss: int

    @property
    def mb_s(self) -> float:
        return self.bytes / self.seconds / 1e6

    @property
    def cpu_per_gb(self) -> float:
        return self.cpu / (self.bytes / 1e9) if self.bytes else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pull(
    target: str, payload: str, url: str, clients: int, size: int, procs: Processes, budget: int
) -> Run:
    """``clients`` transfers at once, ``budget`` bytes in all at least, from up to ``SOURCES``
    addresses (one ``curl --parallel`` each): limits per client see many clients, as they would."""
    count = max(clients, -(-budget // size) // clients * clients)
    groups = min(clients, SOURCES)
    with ExitStack() as stack:
        configs = []
        for _ in range(groups):
            config = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".curl"))
            config.write(f'url = "{url}"\noutput = "/dev/null"\n' * (count // groups))
            config.flush()
            configs.append(config.name)
        cpu0 = procs.cpu()
        with procs.watch() as peak:
            started = time.monotonic()
            parallel = clients // groups
            curls = [_curl(c, parallel, f"127.0.0.{10 + i}") for i, c in enumerate(configs)]
            out = [line for curl in curls for line in curl.communicate()[0].split("\n")]
            seconds = time.monotonic() - started
        cpu = procs.cpu() - cpu0
    rows = [line.split() for line in out if line.strip()]
    good = [r for r in rows if r[0] in ("200", "206") and int(r[2]) == size]
    return Run(
        target, payload, clients, seconds, sum(int(r[2]) for r in good),
        count - len(good), [float(r[1]) for r in good], cpu, peak(),
    )  # fmt: skip


def _curl(config: str, parallel: int, source: str) -> subprocess.Popen[str]:
    command = ["curl", "-s", "-Z", "--parallel-immediate", "--parallel-max", str(parallel)]
    command += ["--interface", source, "--max-time", "600", "-w", CURL_FORMAT, "-K", config]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def tunnel_size(url: str) -> int:
    with httpx.stream("GET", url, timeout=120) as r:
        return sum(len(chunk) for chunk in r.iter_bytes())


def resolve_latency(serve: ServeProcess, site: FixtureSite, tries: int) -> dict[str, float]:
    """Cached (warm) and cold resolves through the server, and yt-dlp's own extraction of the
    same kind of page in this (warm) process: p50 and p99, in seconds."""
    import yt_dlp

    page = site.url("video")
    with httpx.Client(base_url=serve.base, timeout=60) as client:
        client.post("/api/v1/resolve", json={"url": page}).raise_for_status()
        again = {"url": page}
        cached = [_timed(lambda: client.post("/api/v1/resolve", json=again)) for _ in range(tries)]
        cold = [
            _timed(lambda i=i: client.post("/api/v1/resolve", json={"url": f"{page}?cold={i}"}))
            for i in range(tries)
        ]
    options = {"quiet": True, "no_warnings": True, "skip_download": True}
    with yt_dlp.YoutubeDL(options) as ydl:  # type: ignore[arg-type]
        ydl.extract_info(f"{page}?warm", download=False)
        own = [
            _timed(lambda i=i: ydl.extract_info(f"{page}?own={i}", download=False))
            for i in range(tries)
        ]
    return {
        f"{name}_{q}": percentile(values, p)
        for name, values in (("cached", cached), ("cold", cold), ("ytdlp", own))
        for q, p in (("p50", 0.5), ("p99", 0.99))
    }


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    result = call()
    if isinstance(result, httpx.Response):
        result.raise_for_status()
    return time.perf_counter() - started


def open_tunnels(serve: ServeProcess, url: str, count: int) -> dict[str, float]:
    """``count`` tunnels held open by clients that read a little and then stop reading (of a file
    longer than every buffer: a short one would sit whole in the kernel's socket buffers)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    idle = serve.tree_rss()
    socks = []
    try:
        for _ in range(count):
            sock = socket.create_connection((parts.hostname, parts.port), 30)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            sock.recv(64 << 10)
            socks.append(sock)
        time.sleep(5)  # let each tunnel fill what it buffers
        held = serve.tree_rss()
    finally:
        for sock in socks:
            sock.close()
    return {"idle_rss": idle, "rss_open": held, "per_tunnel": (held - idle) / count}


@contextmanager
def running(
    pool_off: bool,
) -> Iterator[tuple[SiteProcess, ServeProcess, NginxProxy, ServeProcess | None]]:
    """The site, mediadl serve, nginx and, with ``pool_off``, a second mediadl serve whose
    tunnels open their own connections (``MEDIADL_TUNNEL_POOL=false``)."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        site = stack.enter_context(SiteProcess("127.0.0.2", free_port("127.0.0.2")))
        serve = stack.enter_context(ServeProcess(Path(tmp) / "serve"))
        nginx = stack.enter_context(NginxProxy(site.base))
        off = None
        if pool_off:
            unpooled = ServeProcess(Path(tmp) / "off", {"MEDIADL_TUNNEL_POOL": "false"})
            off = stack.enter_context(unpooled)
        yield site, serve, nginx, off


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the bytes, fewer tries")
    parser.add_argument("--clients", type=int, nargs="*", default=list(CLIENTS))
    parser.add_argument("--out", type=Path, help="write the server section of this file")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument(
        "--pool-off-too",
        action="store_true",
        help="also a server with the tunnels' shared pool off, in the same rounds",
    )
    args = parser.parse_args()
    budget = ROUND_BYTES // (10 if args.quick else 1)
    runs: list[Run] = []
    load = [os.getloadavg()]
    with running(args.pool_off_too) as (site_proc, serve, nginx, off):
        site = site_proc.site
        file_url = site.url("progressive")
        size = site_proc.media_size("progressive")
        passthrough = serve.tunnel(site.pages["video"])
        dash = serve.tunnel(site.pages["dash"], quality=720)
        dash_size = tunnel_size(dash)
        cases = [
            ("direct", "file", file_url, size, site_proc),
            ("nginx", "file", nginx.url(file_url), size, nginx),
            ("mediadl", "file", passthrough, size, serve),
            ("mediadl", "DASH remux", dash, dash_size, serve),
        ]
        if off is not None:
            cases += [
                ("mediadl, pool off", "file", off.tunnel(site.pages["video"]), size, off),
                ("mediadl, pool off", "DASH remux", off.tunnel(site.pages["dash"], quality=720),
                 dash_size, off),
            ]  # fmt: skip
        for _ in range(args.rounds):
            for clients in args.clients:
                for target, payload, url, nbytes, procs in cases:
                    if payload == "DASH remux" and clients > REMUX_CLIENTS:
                        continue
                    run = pull(target, payload, url, clients, nbytes, procs, budget)
                    print(row(run), flush=True)
                    runs.append(run)
                    for server in (serve, off):
                        if server is not None and server.proc.poll() is not None:
                            raise SystemExit(f"mediadl serve exited ({server.proc.returncode})")
        latency = resolve_latency(serve, site, 50 if args.quick else 200)
    with tempfile.TemporaryDirectory() as tmp, ServeProcess(Path(tmp)) as fresh, long_file() as url:
        memory = open_tunnels(fresh, fresh.tunnel(url), OPEN_TUNNELS)  # a server of its own
    load.append(os.getloadavg())
    text = report(medians(runs), latency, memory, size, dash_size, args.rounds, load)
    print(text)
    if args.out:
        write_section(args.out, text)
    return 0


HEAD = (
    "| clients | target | payload | MB/s | CPU s / GB | TTFB p50 ms | TTFB p99 ms "
    "| peak RSS MB | errors |\n|---:|---|---|---:|---:|---:|---:|---:|---:|"
)


def medians(runs: list[Run]) -> list[Run]:
    """One run per (target, payload, clients): the median of each figure over the rounds."""
    groups: dict[tuple[str, str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.target, run.payload, run.clients), []).append(run)
    out = []
    for (target, payload, clients), same in groups.items():
        mid = sorted(same, key=lambda r: r.mb_s)[len(same) // 2]
        cpu = statistics.median(r.cpu_per_gb for r in same) * mid.bytes / 1e9
        peak = int(statistics.median(r.peak_rss for r in same))
        errors = sum(r.errors for r in same)
        out.append(
            Run(target, payload, clients, mid.seconds, mid.bytes, errors, mid.ttfb, cpu, peak)
        )
    return out


def row(run: Run) -> str:
    ttfb = run.ttfb or [0.0]
    return (
        f"| {run.clients} | {run.target} | {run.payload} | {run.mb_s:.0f} | {run.cpu_per_gb:.2f} "
        f"| {percentile(ttfb, 0.5) * 1000:.1f} | {percentile(ttfb, 0.99) * 1000:.1f} "
        f"| {run.peak_rss / 1e6:.0f} | {run.errors} |"
    )


def report(
    runs: list[Run],
    latency: dict[str, float],
    memory: dict[str, float],
    size: int,
    dash: int,
    rounds: int = 1,
    load: list[tuple[float, float, float]] | None = None,
) -> str:
    loads = " / ".join(" ".join(f"{x:.1f}" for x in one) for one in load or [])
    lines = [
        "## mediadl serve at scale",
        "",
        f"{rounds} interleaved round(s), medians (MB/s and TTFB: the median round by MB/s; CPU "
        f"per GB and RSS: medians; errors: all rounds). Load average (1 / 5 / 15 min) before / "
        f"after: {loads}.",
        "",
        f"`make bench-server`: one `curl --parallel` with N transfers at once; file "
        f"{size / 1e6:.1f} MB, DASH 720p remuxed to MP4 {dash / 1e6:.1f} MB (up to {REMUX_CLIENTS} "
        f"at once); each run moves "
        f"{ROUND_BYTES / 1e6:.0f} MB or more. CPU: the serving process tree (the fixture site for "
        "direct, nginx's master and workers, mediadl serve and its ffmpeg children). RSS: the "
        "same tree, sampled every 0.1 s.",
        "",
        HEAD,
        *(row(run) for run in runs),
        "",
        "| measure | figure | target | met |",
        "|---|---:|---:|---|",
    ]
    by = {(r.target, r.payload, r.clients): r for r in runs}
    for clients in sorted({r.clients for r in runs}):
        ours, theirs = by.get(("mediadl", "file", clients)), by.get(("nginx", "file", clients))
        if ours and theirs:
            ratio = ours.mb_s / theirs.mb_s
            lines.append(
                f"| passthrough, {clients} clients: MB/s ÷ nginx's | {ratio:.2f} | ≥ 0.8 "
                f"| {'yes' if ratio >= 0.8 else 'NO'} |"
            )
    cached, cold, own = latency["cached_p99"], latency["cold_p50"], latency["ytdlp_p50"]
    lines += [
        f"| cached resolve p99 (p50 {latency['cached_p50'] * 1000:.1f}) ms | {cached * 1000:.1f} "
        f"| < 10 | {'yes' if cached < 0.010 else 'NO'} |",
        f"| cold resolve p50 (p99 {latency['cold_p99'] * 1000:.0f}) ms, yt-dlp's own p50 "
        f"{own * 1000:.0f} (p99 {latency['ytdlp_p99'] * 1000:.0f}) | {cold * 1000:.0f} "
        f"| ≤ {(own + 0.020) * 1000:.0f} | {'yes' if cold <= own + 0.020 else 'NO'} |",
        f"| server RSS, idle / with {OPEN_TUNNELS} tunnels of a 1 GiB file open, MB "
        f"| {memory['idle_rss'] / 1e6:.0f} / {memory['rss_open'] / 1e6:.0f} "
        f"| ≤ {RSS_BUDGET / 1e6:.0f} | {'yes' if memory['rss_open'] <= RSS_BUDGET else 'NO'} |",
        f"| memory per open tunnel, MB | {memory['per_tunnel'] / 1e6:.1f} "
        f"| ≤ {TUNNEL_BUDGET / 1e6:.0f} "
        f"| {'yes' if memory['per_tunnel'] <= TUNNEL_BUDGET else 'NO'} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
