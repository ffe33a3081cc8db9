"""The fetch alone: mediadl's native fetcher on the fixture site, without start, extraction, mux.

``bench/fetch_bench.py`` times ``mediadl get`` end to end, where Python's start and yt-dlp's
extraction can hide what the fetcher does (and a loaded machine multiplies them). This starts the
same site (50 ms late, 2.5 MB/s per connection, or the CDN mode that allows 8 connections), and
for each round runs a child process that resolves the payload's formats (untimed), then times
``fetch_formats`` of the ones ``mediadl get`` would pick. Rounds interleave the source trees given
(``--tree SRC`` runs a child with ``PYTHONPATH=SRC``; the default is the installed mediadl), so a
change is measured against what it changed. Reported: median seconds, the physical limit (bytes ÷
(connections × 2.5 MB/s) + one latency) ÷ that, connections at once (after the first 429 in cdn
mode) and requests made.

    python bench/fetch_alone.py [--runs 5] [--modes per-connection cdn] [--tree before=/path/src]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence

from mediadl_fixtures import Recipe, ensure_media, running_site
from mediadl_fixtures.server import FixtureSite
from trees import INSTALLED, named

HOST = "127.0.0.2"
RATE = 2_500_000
MODES = {
    "per-connection": ({"latency": 50, "rate": RATE}, 16),
    "cdn": ({"latency": 50, "rate": RATE, "conn_limit": 8, "conn_retry": 1.0}, 8),
}
PAGES = {"progressive": "progressive", "hls": "hls_master", "dash": "dash_mpd"}
CHILD = """
import json, sys, tempfile, time
from pathlib import Path
from mediadl.engine.extract import resolve
from mediadl.engine.fetch import FetchItem, fetch_formats
from mediadl.settings import Settings
settings = Settings(allow_networks=["127.0.0.2/32"])
formats = resolve(sys.argv[1], settings).formats
if sys.argv[2] == "progressive":
    chosen = [formats[-1]]
else:
    video = max((f for f in formats if f.has_video), key=lambda f: (f.height or 0, f.tbr or 0))
    audio = max((f for f in formats if not f.has_video), key=lambda f: f.tbr or 0)
    chosen = [video, audio]
with tempfile.TemporaryDirectory() as folder:
    items = [FetchItem(f, Path(folder) / str(i)) for i, f in enumerate(chosen)]
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    fetch_formats(items, settings=settings)
    seconds = time.monotonic() - started
    size = sum(item.dest.stat().st_size for item in items)
print(json.dumps({"seconds": seconds, "bytes": size}), flush=True)
"""


def one(site: FixtureSite, payload: str, tree: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    url = site.url(PAGES[payload])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, payload],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    site.reset_counters()
    child.stdin.write("go\n")
    child.stdin.flush()
    result: dict[str, float] = json.loads(child.stdout.readline())
    child.wait()
    stats = site.stats
    result["at_once"] = stats.peak_connections
    result["after_429"] = stats.peak_after_429 if stats.peak_after_429 is not None else -1
    result["requests"] = stats.requests_total
    result["refused"] = stats.statuses[429]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--payloads", nargs="+", default=list(PAGES), choices=list(PAGES))
    parser.add_argument(
        "--tree", action="append", default=[], type=named, help="NAME=SRC (repeatable)"
    )
    args = parser.parse_args(argv)
    trees = args.tree or [INSTALLED]
    media = ensure_media(Recipe.big())
    print(f"load before: {os.getloadavg()}", file=sys.stderr)
    print("| mode | payload | tree | fetch s | limit / fetch | at once | requests | 429s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for mode in args.modes:
        knobs, connections = MODES[mode]
        with running_site(HOST, media=media, **knobs) as site:
            for payload in args.payloads:
                samples: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
                for _ in range(args.runs):
                    for name, tree in trees:
                        samples[name].append(one(site, payload, tree or None))
                for name, runs in samples.items():
                    print(_row(mode, payload, name, runs, connections), flush=True)
    print(f"load after: {os.getloadavg()}", file=sys.stderr)
    return 0


def _row(mode: str, payload: str, name: str, runs: list[dict[str, float]], conns: int) -> str:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    limit = med("bytes") / (conns * RATE) + 0.05
    at_once = f"{med('at_once'):.0f}"
    if mode == "cdn":
        at_once += f"; {max(r['after_429'] for r in runs):.0f} after 429"
    return (
        f"| {mode} | {payload} | {name} | {med('seconds'):.2f} | {limit / med('seconds'):.2f} | "
        f"{at_once} | {med('requests'):.0f} | {med('refused'):.0f} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
