"""Many small jobs through a real Redis queue: one `mediadl serve` replica, two `mediadl worker`s.

    .venv/bin/python bench/jobs_bench.py [--jobs 200] [--threads 2]

Everything is on loopback: the fixture site on 127.0.0.2, redis-server and the replica on
127.0.0.1. Each job saves the fixture's audio file as it is (about 0.7 MB, no ffmpeg). Reports
throughput (jobs done per second, from the first POST to the last job done), the time from
POST to running (a worker started it) as median / 95th percentile / max, and the peak memory
(VmHWM) of each long-lived process and of the largest job process seen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from mediadl_fixtures.threaded import running_site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def job_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"mediadl.jobs.child" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2, help="jobs at once per worker")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    redis_port, port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis = [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1",
                 "--port", str(redis_port), "--save", "", "--appendonly", "no",
                 "--dir", str(folder)]  # fmt: skip
        procs.append(spawn(redis, None))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
        env |= {
            "MEDIADL_JOBS": "true",
            "MEDIADL_JOBS_OPEN": "true",
            "MEDIADL_QUEUE": f"redis://127.0.0.1:{redis_port}/0",
            "MEDIADL_DOWNLOAD_DIR": str(folder / "downloads"),
            "MEDIADL_JOB_WORKERS": str(args.threads),
            "MEDIADL_JOB_MAX_PER_SITE": str(2 * args.threads),
            "MEDIADL_RATE_LIMIT": "100000/minute",
        }
        with running_site("127.0.0.2") as site:
            url = site.url("audio")
            serve = [sys.executable, "-m", "mediadl", "serve", "--port", str(port),
                     "--allow-network", "127.0.0.2/32"]  # fmt: skip
            procs.append(spawn(serve, env | {"MEDIADL_DATA_DIR": str(folder / "serve")}))
            worker = [sys.executable, "-m", "mediadl", "worker", "--allow-network", "127.0.0.2/32"]
            for n in (1, 2):
                procs.append(spawn(worker, env | {"MEDIADL_DATA_DIR": str(folder / f"w{n}")}))
            base = f"http://127.0.0.1:{port}"
            wait_up(base)
            print(json.dumps(run(base, url, args.jobs, procs), indent=2))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def spawn(command: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server didn't start")


def run(base: str, url: str, count: int, procs: list[subprocess.Popen[bytes]]) -> dict[str, object]:
    started = time.monotonic()
    ids = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            answer = client.post(f"{base}/api/v1/jobs", json={"url": url, "audio": "best"})
            answer.raise_for_status()
            ids.append(answer.json()["id"])
        posted = time.monotonic() - started
        child_peak = 0
        while True:
            child_peak = max([child_peak, *(peak_kib(p) for p in job_processes())])
            page = client.get(f"{base}/api/v1/jobs", params={"limit": 1, "state": "done"})
            failed = client.get(f"{base}/api/v1/jobs", params={"limit": 1, "state": "failed"})
            if page.json()["total"] + failed.json()["total"] >= count:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        jobs = [client.get(f"{base}/api/v1/jobs/{i}").json() for i in ids]
    waits = sorted(j["started"] - j["created"] for j in jobs if j["started"])
    return {
        "jobs": count,
        "done": sum(j["state"] == "done" for j in jobs),
        "seconds_to_post_all": round(posted, 2),
        "seconds_to_finish_all": round(elapsed, 2),
        "jobs_per_second": round(count / elapsed, 2),
        "post_to_running_s": {
            "median": round(statistics.median(waits), 2),
            "p95": round(waits[int(0.95 * (len(waits) - 1))], 2),
            "max": round(waits[-1], 2),
        },
        "peak_rss_mib": {
            "redis": round(peak_kib(procs[0].pid) / 1024, 1),
            "serve": round(peak_kib(procs[1].pid) / 1024, 1),
            "worker_1": round(peak_kib(procs[2].pid) / 1024, 1),
            "worker_2": round(peak_kib(procs[3].pid) / 1024, 1),
            "largest_job_process": round(child_peak / 1024, 1),
        },
    }


if __name__ == "__main__":
    main()
