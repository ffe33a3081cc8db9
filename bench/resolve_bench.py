"""Resolve latency alone: cached and cold resolves through one ``mediadl serve``, beside yt-dlp's
own extraction of the same page in a warm process (``server_bench.resolve_latency``).

    .venv/bin/python bench/resolve_bench.py [--tries 100] [--tree SRC]

Prints one JSON line (milliseconds; the server's process tree afterwards, idle: RSS summed,
proportional set size summed, processes; the load averages before and after), so runs of two
checkouts can be interleaved by a shell loop and compared: ``--tree`` runs the server from
another source tree of mediadl (``PYTHONPATH=SRC``; the default is the installed one).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from server_bench import resolve_latency
from server_procs import ServeProcess, SiteProcess, free_port
from trees import source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument(
        "--tree", type=source, help="a source tree of mediadl to serve from (its src/)"
    )
    args = parser.parse_args()
    before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SiteProcess("127.0.0.2", free_port("127.0.0.2")) as site,
        ServeProcess(Path(tmp) / "serve", pythonpath=args.tree) as serve,
    ):
        latency = resolve_latency(serve, site.site, args.tries)
        time.sleep(3)  # the last extraction's process has left; a spare is waiting
        memory = {"rss_mb": serve.tree_rss() / 2**20}
        pss, memory["processes"] = serve.tree_pss()
        memory["pss_mb"] = pss / 2**20
    figures = {k: round(v * 1000, 1) for k, v in latency.items()}
    figures |= {k: round(v, 1) for k, v in memory.items()}
    print(json.dumps({**figures, "load": [round(x, 1) for x in (*before, *os.getloadavg())]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
