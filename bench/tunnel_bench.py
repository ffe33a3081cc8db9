"""Tunnel benchmark: time to first byte and throughput through ``mediadl serve`` vs curl straight
from the fixture site, then many tunnel downloads at once (errors, server peak memory).

    .venv/bin/python bench/tunnel_bench.py [--runs 5] [--concurrency 50] [--json out.json]

Everything runs on this machine: the fixture site on 127.0.0.2, the server on 127.0.0.1.
Bounded: a fixed number of downloads, each with a timeout; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mediadl_fixtures.threaded import running_site

CURL_FORMAT = "%{http_code} %{time_starttransfer} %{time_total} %{size_download}"
SECRET = "bench-secret-0123456789abcdef"
THROTTLE = 4_000_000
"""Bytes/s per connection for the throttled case (sites limit single connections)."""


@dataclass
class Sample:
    status: int
    ttfb: float
    total: float
    size: int

    @property
    def rate(self) -> float:
        return self.size / self.total if self.total else 0.0


def curl(url: str, timeout: float = 120) -> Sample:
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", CURL_FORMAT, "--max-time", str(timeout), url],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return Sample(int(out[0]), float(out[1]), float(out[2]), int(out[3]))


async def acurl(url: str, timeout: float = 300) -> Sample:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "-o", "/dev/null", "-w", CURL_FORMAT, "--max-time", str(timeout), url,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out = (await proc.communicate())[0].decode().split()
    return Sample(int(out[0]), float(out[1]), float(out[2]), int(out[3]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``mediadl serve`` in its own process, with its memory watched."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
        env |= {"MEDIADL_SECRET": SECRET, "MEDIADL_DATA_DIR": str(data)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl", "serve", "--port", str(self.port),
             "--allow-network", "127.0.0.2/32", "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).json()["warm"]:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server didn't start")

    def tunnel(self, page: str, **choice: Any) -> str:
        r = httpx.post(f"{self.base}/api/v1/download", json={"url": page, **choice}, timeout=60)
        r.raise_for_status()
        return str(r.json()["tunnel"])

    def peak_rss(self) -> int:
        """The server process's peak resident memory (VmHWM), bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def tree_rss(self) -> int:
        """Resident memory of the server and its ffmpeg children now, bytes."""
        total, stack = 0, [self.proc.pid]
        while stack:
            pid = stack.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                for task in Path(f"/proc/{pid}/task").iterdir():
                    stack += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            total += next(
                (int(x.split()[1]) * 1024 for x in status.splitlines() if x.startswith("VmRSS:")),
                0,
            )
        return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def compare(name: str, direct: str | None, tunnel: str, runs: int) -> dict[str, Any]:
    """Medians of ``runs`` downloads each way; ratios tunnel / direct."""
    through = [curl(tunnel) for _ in range(runs)]
    row: dict[str, Any] = {"case": name, **_medians("tunnel", through)}
    if direct is not None:
        straight = [curl(direct) for _ in range(runs)]
        row |= _medians("direct", straight)
        row["ttfb_ratio"] = row["tunnel_ttfb"] / row["direct_ttfb"]
        row["throughput_ratio"] = row["tunnel_rate"] / row["direct_rate"]
    if any(s.status != 200 for s in through):
        row["errors"] = sum(s.status != 200 for s in through)
    return row


def _medians(prefix: str, samples: list[Sample]) -> dict[str, float]:
    return {
        f"{prefix}_ttfb": statistics.median(s.ttfb for s in samples),
        f"{prefix}_rate": statistics.median(s.rate for s in samples),
        f"{prefix}_size": statistics.median(s.size for s in samples),
    }


async def crowd(server: Server, tunnels: list[str]) -> dict[str, Any]:
    """All ``tunnels`` at once; errors and memory while they run."""
    peak_tree = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, server.tree_rss())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    samples = await asyncio.gather(*(acurl(url) for url in tunnels))
    elapsed = time.monotonic() - started
    done.set()
    await watcher
    return {
        "downloads": len(samples),
        "errors": sum(s.status != 200 or s.size == 0 for s in samples),
        "seconds": elapsed,
        "bytes": sum(s.size for s in samples),
        "ttfb_median": statistics.median(s.ttfb for s in samples),
        "ttfb_max": max(s.ttfb for s in samples),
        "server_peak_rss": server.peak_rss(),
        "tree_peak_rss": peak_tree,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with running_site("127.0.0.2") as site, tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            results = run(server, site, args.runs, args.concurrency)
        finally:
            server.stop()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if results["crowd"]["errors"] else 0


def run(server: Server, site: Any, runs: int, concurrency: int) -> dict[str, Any]:
    throttled_page = site.url("/pages/video.html", rate=THROTTLE)
    rows = [
        compare("passthrough", site.url("progressive"), server.tunnel(site.pages["video"]), runs),
        compare(
            f"passthrough, site throttled to {THROTTLE / 1e6:.0f} MB/s per connection",
            site.url("progressive", rate=THROTTLE),
            server.tunnel(throttled_page),
            runs,
        ),
        compare(
            "remux HLS 720p (TS) to MP4", None, server.tunnel(site.pages["hls"], quality=720), runs
        ),
        compare(
            "remux DASH 720p to MP4", None, server.tunnel(site.pages["dash"], quality=720), runs
        ),
        compare(
            "transcode m4a to mp3", None, server.tunnel(site.pages["audio"], audio="mp3"), runs
        ),
    ]
    kinds: list[tuple[str, dict[str, Any]]] = [
        (site.pages["video"], {}),
        (site.pages["hls"], {"quality": 720}),
        (site.pages["dash"], {"quality": 360}),
        (site.pages["mp3"], {"audio": "best"}),
    ]
    tunnels = [server.tunnel(page, **choice) for page, choice in kinds]
    many = [tunnels[i % len(tunnels)] for i in range(concurrency)]
    return {"compare": rows, "crowd": asyncio.run(crowd(server, many))}


def report(results: dict[str, Any]) -> None:
    columns = ("ttfb ms", "MB/s", "direct ms", "MB/s", "ttfb x", "rate x")
    widths = (9, 8, 10, 8, 7, 7)
    print(f"{'case':58} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for row in results["compare"]:
        cells = [row["tunnel_ttfb"] * 1000, row["tunnel_rate"] / 1e6]
        if "direct_ttfb" in row:
            cells += [row["direct_ttfb"] * 1000, row["direct_rate"] / 1e6]
            cells += [row["ttfb_ratio"], row["throughput_ratio"]]
        text = [
            f"{v:{w}.2f}" if w == 7 else f"{v:{w}.1f}" for v, w in zip(cells, widths, strict=False)
        ]
        text += [f"{'-':>{w}}" for w in widths[len(cells) :]]
        print(f"{row['case']:58} " + " ".join(text))
    c = results["crowd"]
    print(
        f"\n{c['downloads']} concurrent tunnel downloads: {c['errors']} errors, "
        f"{c['seconds']:.1f} s, {c['bytes'] / 1e6:.0f} MB, first byte median "
        f"{c['ttfb_median'] * 1000:.0f} ms (max {c['ttfb_max'] * 1000:.0f} ms)\n"
        f"server peak RSS {c['server_peak_rss'] / 2**20:.0f} MiB; server + ffmpeg children "
        f"peak RSS {c['tree_peak_rss'] / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
