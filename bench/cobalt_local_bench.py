"""Server CPU per merged download: joined on the server (one tunnel, ffmpeg) or in the browser
(cobalt's ``local-processing``: one tunnel per stream, the server only relays bytes).

    .venv/bin/python bench/cobalt_local_bench.py [--runs 5] [--json out.json]

Each run is what cobalt's web app does: ``POST /`` with ``localProcessing: "preferred"``, then
every tunnel of the answer read to the end. The server is a real ``mediadl serve`` with
``MEDIADL_COBALT_LOCAL_PROCESSING`` on or off; its CPU time (user + system, its ffmpeg children
included once they are reaped) is read from ``/proc`` before and after each run. The fixture site
runs in this process, on 127.0.0.2, so its CPU isn't counted. Bounded: a fixed number of runs,
each with a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mediadl_fixtures.threaded import running_site

SECRET = "bench-secret-0123456789abcdef"
JSON = {"Accept": "application/json", "Content-Type": "application/json"}
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``mediadl serve`` in its own process; ``cpu()`` is its CPU seconds so far."""

    def __init__(self, data: Path, *, local: bool) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
        env |= {
            "MEDIADL_SECRET": SECRET,
            "MEDIADL_DATA_DIR": str(data),
            "MEDIADL_COBALT_LOCAL_PROCESSING": "true" if local else "false",
            "MEDIADL_RATE_LIMIT": "10000/minute",  # one client asks many times here
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl", "serve", "--port", str(self.port),
             "--allow-network", "127.0.0.2/32", "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).json()["warm"]:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server didn't start")

    def cpu(self) -> float:
        """User + system seconds of the server and of its children it waited for."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / TICKS

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def download(client: httpx.Client, server: Server, page: str, quality: str) -> dict[str, Any]:
    """One download as cobalt's web app makes it; the bytes and the answer's kind."""
    body = {"url": page, "videoQuality": quality, "localProcessing": "preferred"}
    answer = client.post(f"{server.base}/", content=json.dumps(body), headers=JSON).json()
    if answer["status"] == "error":
        raise RuntimeError(f"the server answered {answer}")
    links = answer["tunnel"] if answer["status"] == "local-processing" else [answer["url"]]
    size = 0
    for link in links:
        with client.stream("GET", link) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes(1 << 16):
                size += len(chunk)
    return {"status": answer["status"], "bytes": size}


def measure(server: Server, page: str, quality: str, runs: int) -> dict[str, Any]:
    with httpx.Client(timeout=120) as client:
        download(client, server, page, quality)  # extraction cached, as for a busy server
        cpu, wall = [], []
        for _ in range(runs):
            before, started = server.cpu(), time.monotonic()
            got = download(client, server, page, quality)
            time.sleep(0.3)  # the last ffmpeg reaped, so its CPU is counted
            cpu.append(server.cpu() - before)
            wall.append(time.monotonic() - started - 0.3)
    return {
        "answer": got["status"],
        "bytes": got["bytes"],
        "cpu_s": statistics.median(cpu),
        "cpu_s_all": cpu,
        "wall_s": statistics.median(wall),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = []
    with running_site("127.0.0.2") as site, tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("DASH 360p", site.pages["dash"], "360"),
            ("DASH 1080p", site.pages["dash"], "1080"),
        ]
        cases += [("HLS 720p (TS)", site.pages["hls"], "720")]
        for local in (False, True):
            server = Server(Path(tmp) / str(local), local=local)
            try:
                for name, page, quality in cases:
                    row = measure(server, page, quality, args.runs)
                    rows.append({"case": name, "local_processing": local, **row})
            finally:
                server.stop()
    report(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def report(rows: list[dict[str, Any]]) -> None:
    head = f"{'case':16} {'setting':8} {'answer':18} {'MB':>6} {'CPU s':>6} {'CPU ms/MB':>9}"
    print(f"{head} {'wall s':>6}")
    for row in rows:
        setting = "on" if row["local_processing"] else "off"
        mb = row["bytes"] / 1e6
        print(
            f"{row['case']:16} {setting:8} {row['answer']:18} {mb:6.1f} {row['cpu_s']:6.3f} "
            f"{row['cpu_s'] * 1000 / mb:9.1f} {row['wall_s']:6.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
