"""A budget for remux tunnels: N clients at once pulling a DASH pair remuxed to MP4 through one
``mediadl serve``, with ``max_ffmpeg_tunnels`` at several values (and lifted: the server as it was
without a budget), interleaved rounds.

    .venv/bin/python bench/remux_budget_bench.py [--budgets 0 1 2 4 8] [--clients 16 64]
        [--rounds 2] [--out bench/results.md]

Budget 0 lifts the limit (1000 places: every tunnel starts its ffmpeg at once); the wait in line
is the server's default unless ``--wait`` says otherwise (a tunnel refused counts as an error).
Beside the figures of ``server_bench.py`` (MB/s, CPU s per GB, TTFB, the tree's peak RSS) it
samples the ffmpeg children alone every 0.1 s: how many ran at once at most, and their RSS each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from results_file import write_section
from server_bench import Run, percentile, pull, tunnel_size
from server_procs import ServeProcess, SiteProcess, _tree, free_port

UNLIMITED = 1000
RSS_BUDGET = 768_000_000
"""The server tree's peak RSS with 64 clients of a remux at once and the default places on this
2-core machine (4): the server itself (~300 MB busy) and four ffmpeg (~55 MB each), with room."""


@dataclass
class Sample:
    most: int = 0
    """ffmpeg processes at once, at most."""
    rss: list[int] | None = None
    """RSS of each ffmpeg seen, at its largest sample."""


def _ffmpeg_rss(root: int) -> dict[int, int]:
    found = {}
    for pid in _tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        lines = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if lines.get("Name", "").strip().startswith("ffmpeg") and "VmRSS" in lines:
            found[pid] = int(lines["VmRSS"].split()[0]) * 1024
    return found


@contextmanager
def ffmpegs(serve: ServeProcess, every: float = 0.1) -> Iterator[Sample]:
    sample, done, largest = Sample(), threading.Event(), {}

    def watch() -> None:
        while not done.wait(every):
            now = _ffmpeg_rss(serve.proc.pid)
            sample.most = max(sample.most, len(now))
            for pid, rss in now.items():
                largest[pid] = max(largest.get(pid, 0), rss)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield sample
    finally:
        done.set()
        thread.join()
        sample.rss = list(largest.values())


@dataclass
class Row:
    budget: int
    run: Run
    most: int
    ffmpeg_mb: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", type=int, nargs="*", default=[0, 1, 2, 4, 8])
    parser.add_argument("--clients", type=int, nargs="*", default=[16, 64])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bytes", type=int, default=200_000_000, help="bytes per run, at least")
    parser.add_argument("--wait", help="ffmpeg_queue_wait (default: the server's)")
    parser.add_argument("--out", type=Path, help="write this bench's section of this file")
    args = parser.parse_args()
    load = [os.getloadavg()]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        site = SiteProcess("127.0.0.2", free_port("127.0.0.2"))
        try:
            for n in range(args.rounds):
                for budget in args.budgets:
                    rows += one_server(site, Path(tmp) / f"{n}-{budget}", budget, args)
        finally:
            site.stop()
    load.append(os.getloadavg())
    text = report(rows, args, load)
    print(text)
    if args.out:
        write_section(args.out, text)
    return 0


def one_server(site: SiteProcess, data: Path, budget: int, args: argparse.Namespace) -> list[Row]:
    extra = {"MEDIADL_MAX_FFMPEG_TUNNELS": str(budget or UNLIMITED)}
    if args.wait:
        extra["MEDIADL_FFMPEG_QUEUE_WAIT"] = args.wait
    rows = []
    with ServeProcess(data, extra) as serve:
        url = serve.tunnel(site.site.pages["dash"], quality=720)
        size = tunnel_size(url)
        for clients in args.clients:
            with ffmpegs(serve) as sample:
                run = pull("mediadl", "DASH remux", url, clients, size, serve, args.bytes)
            each = statistics.median(sample.rss or [0]) / 1e6
            rows.append(Row(budget, run, sample.most, each))
            print(line(rows[-1]), flush=True)
            if serve.proc.poll() is not None:
                raise SystemExit(f"mediadl serve exited ({serve.proc.returncode})")
    return rows


HEAD = (
    "| clients | max_ffmpeg_tunnels | MB/s | CPU s / GB | TTFB p50 ms | TTFB p99 ms "
    "| peak RSS MB | ffmpeg at once | RSS per ffmpeg MB | errors |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def line(row: Row) -> str:
    run, ttfb = row.run, row.run.ttfb or [0.0]
    budget = str(row.budget) if row.budget else "none"
    return (
        f"| {run.clients} | {budget} | {run.mb_s:.1f} | {run.cpu_per_gb:.1f} "
        f"| {percentile(ttfb, 0.5) * 1000:.0f} | {percentile(ttfb, 0.99) * 1000:.0f} "
        f"| {run.peak_rss / 1e6:.0f} | {row.most} | {row.ffmpeg_mb:.1f} | {run.errors} |"
    )


def medians(rows: list[Row]) -> list[Row]:
    """One row per (clients, budget): the median round by MB/s, other figures' medians."""
    groups: dict[tuple[int, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.run.clients, row.budget), []).append(row)
    out = []
    for key in sorted(groups):
        same = groups[key]
        mid = sorted(same, key=lambda r: r.run.mb_s)[len(same) // 2]
        cpu = statistics.median(r.run.cpu_per_gb for r in same) * mid.run.bytes / 1e9
        peak = int(statistics.median(r.run.peak_rss for r in same))
        run = Run(
            mid.run.target, mid.run.payload, mid.run.clients, mid.run.seconds, mid.run.bytes,
            sum(r.run.errors for r in same), mid.run.ttfb, cpu, peak,
        )  # fmt: skip
        most = max(r.most for r in same)
        out.append(Row(mid.budget, run, most, statistics.median(r.ffmpeg_mb for r in same)))
    return out


def report(rows: list[Row], args: argparse.Namespace, load: list[tuple[float, ...]]) -> str:
    loads = " / ".join(" ".join(f"{x:.1f}" for x in one) for one in load)
    command = " ".join(["bench/remux_budget_bench.py", *sys.argv[1:]])
    return "\n".join(
        [
            "## A budget for remux tunnels: the figures",
            "",
            f"`.venv/bin/python {command}`: {args.rounds} interleaved round(s), a fresh "
            f"`mediadl serve` per budget and round, each run moves {args.bytes / 1e6:.0f} MB or "
            "more of a DASH 720p pair remuxed to MP4; medians (MB/s and TTFB: the median round "
            "by MB/s). Load average (1 / 5 / 15 min) before / after: "
            f"{loads}. TTFB counts the time in line. RSS: the server's tree (mediadl serve and "
            "its ffmpeg children), sampled every 0.1 s; RSS per ffmpeg: the median of each "
            "ffmpeg's largest sample.",
            "",
            HEAD,
            *(line(row) for row in medians(rows)),
            "",
            *budget_lines(medians(rows)),
        ]
    )


def budget_lines(rows: list[Row]) -> list[str]:
    """The claim: the tree's peak RSS with 64 remux clients, each budget, against RSS_BUDGET."""
    lines = ["| 64 remux clients at once | peak RSS MB | budget MB | met |", "|---|---:|---:|---|"]
    for row in rows:
        if row.run.clients == 64:
            met = "yes" if row.run.peak_rss <= RSS_BUDGET else "NO"
            places = f"max_ffmpeg_tunnels={row.budget}" if row.budget else "no limit"
            lines.append(
                f"| {places} | {row.run.peak_rss / 1e6:.0f} | {RSS_BUDGET / 1e6:.0f} | {met} |"
            )
    return [*lines, ""] if len(lines) > 2 else []


if __name__ == "__main__":
    raise SystemExit(main())
