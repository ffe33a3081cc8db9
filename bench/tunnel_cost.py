"""What one passthrough tunnel of the fixture file costs, tree by tree: requests and connections
to the site, server CPU and wall time, over ``--tunnels`` tunnels one after another.

    .venv/bin/python bench/tunnel_cost.py --tree before=/path/to/src --tree after=src [--rounds 5]

The fixture site runs in this process (so its request log can be read); each tree is a
``mediadl serve`` of its own (``PYTHONPATH=SRC``); rounds interleave the trees.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from mediadl_fixtures.threaded import running_site
from server_procs import ServeProcess
from trees import INSTALLED, named

PATH = "/media/progressive.mp4"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree", action="append", default=[], type=named, help="NAME=SRC (repeatable)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tunnels", type=int, default=100)
    args = parser.parse_args()
    trees = args.tree or [INSTALLED]
    load = [os.getloadavg()]
    rows: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name, _ in trees}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        site = stack.enter_context(running_site("127.0.0.2"))
        serves = {
            name: stack.enter_context(ServeProcess(Path(tmp) / name, pythonpath=src or None))
            for name, src in trees
        }
        tunnels = {name: serve.tunnel(site.pages["video"]) for name, serve in serves.items()}
        size = site.media["progressive"].stat().st_size
        for _ in range(args.rounds):
            for name, serve in serves.items():
                with httpx.Client(timeout=60) as client:
                    client.get(tunnels[name]).raise_for_status()  # the resolve, cached
                    site.reset_counters()
                    cpu, started = serve.cpu(), time.monotonic()
                    for _ in range(args.tunnels):
                        if len(client.get(tunnels[name]).content) != size:
                            raise SystemExit(f"{name}: a tunnel came out short")
                    cpu, wall = serve.cpu() - cpu, time.monotonic() - started
                n = args.tunnels
                stats = site.stats
                row = (stats.requests[PATH] / n, stats.connections_opened / n, cpu / n, wall / n)
                rows[name].append(row)
                print(name, " ".join(f"{x:.4f}" for x in row), flush=True)
    load.append(os.getloadavg())
    print(report(rows, args.rounds, args.tunnels, load))
    return 0


def report(
    rows: dict[str, list[tuple[float, float, float, float]]],
    rounds: int,
    tunnels: int,
    load: list[tuple[float, float, float]],
) -> str:
    loads = " / ".join(" ".join(f"{x:.1f}" for x in one) for one in load)
    lines = [
        f"{rounds} interleaved rounds of {tunnels} tunnels one after another, medians; load "
        f"average (1 / 5 / 15 min) before / after: {loads}.",
        "",
        "| tree | requests / tunnel | connections / tunnel | CPU ms / tunnel (rounds) "
        "| wall ms / tunnel |",
        "|---|---:|---:|---|---:|",
    ]
    for name, done in rows.items():
        columns = zip(*done, strict=True)
        requests, connections, cpu, wall = (statistics.median(col) for col in columns)
        each = " / ".join(f"{r[2] * 1e3:.1f}" for r in done)
        lines.append(
            f"| {name} | {requests:.2f} | {connections:.2f} | {cpu * 1e3:.1f} ({each}) "
            f"| {wall * 1e3:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
