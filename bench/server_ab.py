"""Passthrough tunnels of the fixture file through several source trees of ``mediadl serve``,
interleaved round by round beside nginx, so that a change is measured under the same load as
what it changes (this machine's load swings more between runs than most changes weigh).

    .venv/bin/python bench/server_ab.py --tree before=/path/to/src --tree after=src \\
        [--clients 1 16 64 256] [--rounds 3] [--quick]

Each tree is its own ``mediadl serve`` (``PYTHONPATH=SRC``) on the same fixture site; figures are
medians over the rounds: MB/s, CPU seconds per GB and CPU milliseconds per tunnel of the serving
process tree, and MB/s as a fraction of nginx's in the same round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from server_bench import CLIENTS, ROUND_BYTES, Run, pull
from server_procs import NginxProxy, ServeProcess, SiteProcess, free_port
from trees import INSTALLED, named


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree", action="append", default=[], type=named, help="NAME=SRC (repeatable)"
    )
    parser.add_argument("--clients", type=int, nargs="*", default=list(CLIENTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tenth of the bytes")
    args = parser.parse_args()
    trees = args.tree or [INSTALLED]
    budget = ROUND_BYTES // (10 if args.quick else 1)
    runs: dict[tuple[str, int], list[tuple[Run, float]]] = {}
    load = [os.getloadavg()]
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        site_proc = stack.enter_context(SiteProcess("127.0.0.2", free_port("127.0.0.2")))
        nginx = stack.enter_context(NginxProxy(site_proc.base))
        site = site_proc.site
        size = site_proc.media_size("progressive")
        serves = {
            name: stack.enter_context(ServeProcess(Path(tmp) / name, pythonpath=src or None))
            for name, src in trees
        }
        cases = [("nginx", nginx.url(site.url("progressive")), nginx)]
        cases += [(name, s.tunnel(site.pages["video"]), s) for name, s in serves.items()]
        for _ in range(args.rounds):
            for clients in args.clients:
                base = None
                for name, url, procs in cases:
                    run = pull(name, "file", url, clients, size, procs, budget)
                    base = base or run.mb_s
                    runs.setdefault((name, clients), []).append((run, run.mb_s / base))
                    print(f"{clients:>4} {name:<8} {run.mb_s:7.0f} MB/s {run.cpu_per_gb:5.2f} "
                          f"CPU s/GB errors {run.errors}", flush=True)  # fmt: skip
    load.append(os.getloadavg())
    print(report(runs, size, args.rounds, load))
    return 0


def report(
    runs: dict[tuple[str, int], list[tuple[Run, float]]],
    size: int,
    rounds: int,
    load: list[tuple[float, float, float]],
) -> str:
    loads = " / ".join(" ".join(f"{x:.1f}" for x in one) for one in load)
    lines = [
        f"{rounds} interleaved round(s), medians; file {size / 1e6:.1f} MB; load average "
        f"(1 / 5 / 15 min) before / after: {loads}.",
        "",
        "| clients | target | MB/s | ÷ nginx (same round) | CPU s / GB | CPU ms / tunnel | errors "
        "|",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for (name, clients), done in runs.items():
        mb_s = statistics.median(run.mb_s for run, _ in done)
        ratio = statistics.median(r for _, r in done)
        per_gb = statistics.median(run.cpu_per_gb for run, _ in done)
        per_tunnel = per_gb * size / 1e9 * 1e3
        errors = sum(run.errors for run, _ in done)
        lines.append(
            f"| {clients} | {name} | {mb_s:.0f} | {ratio:.2f} | {per_gb:.2f} | "
            f"{per_tunnel:.2f} | {errors} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
