"""From exec to the site's first requests: how long ``mediadl get`` works before it fetches.

Starts the fixture site as ``bench/fetch_bench.py`` does (each response 50 ms late, 2.5 MB/s per
connection), then runs ``mediadl get --no-metadata <page>`` of a payload's page and records when
the site reads each request's head, on the machine's monotonic clock, against the moment the
command was started: the page's request (interpreter, imports, settings, finding the extractor)
and the first media request (reading the page, yt-dlp's generic extractor, choosing the formats,
starting the fetcher). The command is killed at its first media request: the rest is the fetch,
which ``fetch_bench.py`` times.

Rounds interleave the source trees given (``--tree NAME=SRC`` runs ``mediadl`` with
``PYTHONPATH=SRC``; an empty SRC is the installed mediadl). Each tree keeps its own data folder
across its runs, so its caches are what a second run finds.

    .venv/bin/python bench/first_request.py [--payload progressive] [--runs 7] \\
        [--tree before=/path/to/old/src] [--tree after=] [--peer yt-dlp]

``--peer yt-dlp`` times ``yt-dlp -o OUT <page>`` of the same venv beside it, the same way.

``--timeline`` runs each tree (and peer) to its end instead, on the benchmark-sized media of
``fetch_bench.py``, once untimed and then ``--runs`` times, and prints every request of the last
run: when the site read its head and when it finished the answer, against exec, and the path.
That is where the time of a whole download goes: the page, the manifest, each level of
concurrency as its requests go out, the tail, and what the command does after the last byte.

    .venv/bin/python bench/first_request.py --timeline --payload dash --runs 1
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fetch_bench import BIN, HOST, MODES, PAGES, child_env
from mediadl_fixtures import FixtureSite, running_site
from trees import INSTALLED, named

Seen = list[tuple[float, str]]
"""(monotonic time the request's head was read, path), in order."""
Answered = list[tuple[float, float, str]]
"""(head read, answer finished, path) of each request the site has finished with."""
TIMEOUT = 60.0


def record(seen: Seen, answered: Answered | None = None) -> None:
    """Note every request the fixture site reads (wraps its handler in this process), and with
    ``answered`` when the site was done with each."""
    original = FixtureSite._respond

    async def respond(self: FixtureSite, exchange: Any) -> bool:
        started = time.monotonic()
        seen.append((started, exchange.req.path))
        try:
            return await original(self, exchange)
        finally:
            if answered is not None:
                answered.append((started, time.monotonic(), exchange.req.path))

    FixtureSite._respond = respond  # type: ignore[method-assign]


MEDIADL = ("mediadl", "get", "--no-metadata", "-o")
PEERS = {"yt-dlp": ("yt-dlp", "--no-part", "-o")}
"""Other tools timed the same way: each command before ``OUT URL``, as ``MEDIADL``'s."""


def one(
    url: str,
    env: dict[str, str],
    out: Path,
    seen: Seen,
    head: Sequence[str] = MEDIADL,
    *,
    whole: bool = False,
) -> tuple[float, float]:
    """Seconds from exec to the page's request and to the first media request; with ``whole``
    the command runs to its end (what it keeps for the next run, it writes as it exits)."""
    seen.clear()
    command = [str(BIN / head[0]), *head[1:], str(out), url]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        while (whole or not _media(seen)) and proc.poll() is None:
            if time.monotonic() - started > TIMEOUT:
                raise TimeoutError(f"no media request within {TIMEOUT} s")
            time.sleep(0.002)
    finally:
        with contextlib.suppress(ProcessLookupError):  # a whole run that ended
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    media = _media(seen)
    if not media:
        raise RuntimeError(f"{head[0]} ended without a media request: {err.decode()[-500:]}")
    page = min(t for t, path in seen if "/pages/" in path)
    return page - started, media[0] - started


def _media(seen: Seen) -> list[float]:
    return [t for t, path in list(seen) if "/pages/" not in path]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payload", choices=sorted(PAGES), default="progressive")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--tree", action="append", default=[], type=named, help="NAME=SRC (repeatable)"
    )
    parser.add_argument(
        "--peer", action="append", default=[], choices=sorted(PEERS), help="time it beside"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="run to the end; print each request's times"
    )
    args = parser.parse_args(argv)
    trees = args.tree or [INSTALLED]
    trees += [(peer, "") for peer in args.peer]
    heads = {name: PEERS[name] if name in args.peer else MEDIADL for name, _ in trees}
    if args.timeline:
        return timeline(trees, heads, args.payload, args.runs)
    seen: Seen = []
    record(seen)
    load_before = os.getloadavg()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in trees}
    with running_site(HOST, **MODES["per-connection"]) as site, tempfile.TemporaryDirectory() as d:
        url = site.url(PAGES[args.payload])
        envs, first = {}, {}
        for name, src in trees:
            (Path(d) / name).mkdir()
            envs[name] = child_env(Path(d) / name)
            if src:
                envs[name]["PYTHONPATH"] = src
            out = Path(d) / name / "out"
            first[name] = one(url, envs[name], out, seen, heads[name], whole=True)  # fills caches
            shutil.rmtree(out, ignore_errors=True)  # or the next runs find it downloaded
        for run in range(args.runs):
            for name, _ in trees if run % 2 == 0 else reversed(trees):
                out = Path(d) / name / "out"
                times[name].append(one(url, envs[name], out, seen, heads[name]))
    load_after = os.getloadavg()
    _report(times, first, args.payload, (load_before, load_after))
    return 0


def timeline(
    trees: Sequence[tuple[str, str]], heads: dict[str, Sequence[str]], payload: str, runs: int
) -> int:
    """Each tree's whole download of ``payload``'s page, ``runs`` times after an untimed one;
    the requests of its last run, in the order they were sent."""
    from mediadl_fixtures import Recipe, ensure_media

    seen: Seen = []
    answered: Answered = []
    record(seen, answered)
    media = ensure_media(Recipe.big())
    with (
        running_site(HOST, media=media, **MODES["per-connection"]) as site,
        tempfile.TemporaryDirectory() as d,
    ):
        url = site.url(PAGES[payload])
        for name, src in trees:
            (Path(d) / name).mkdir()
            env = child_env(Path(d) / name)
            if src:
                env["PYTHONPATH"] = src
            out = Path(d) / name / "out"
            for _ in range(runs + 1):
                shutil.rmtree(out, ignore_errors=True)
                answered.clear()
                started = time.monotonic()
                one(url, env, out, seen, heads[name], whole=True)
                wall = time.monotonic() - started
            print(f"\n{name}, {payload}: {wall:.3f} s from exec to exit; each request (s)\n")
            print("| sent | answered | took | path |")
            print("|---:|---:|---:|---|")
            for head, end, path in sorted(answered):
                sent, done = head - started, end - started
                print(f"| {sent:.3f} | {done:.3f} | {done - sent:.3f} | {path} |")
    return 0


def _report(
    times: dict[str, list[tuple[float, float]]],
    first: dict[str, tuple[float, float]],
    payload: str,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> None:
    print(f"`mediadl get --no-metadata` and peers, {payload} page: seconds from exec (medians)\n")
    print("| tree | runs | page request | first media request | page → media |")
    print("|---|---:|---:|---:|---:|")
    for name, samples in times.items():
        page = statistics.median(p for p, _ in samples)
        media = statistics.median(m for _, m in samples)
        between = statistics.median(m - p for p, m in samples)
        print(f"| {name} | {len(samples)} | {page:.3f} | {media:.3f} | {between:.3f} |")
    for name, (page, media) in first.items():
        print(f"| {name}, empty caches | 1 | {page:.3f} | {media:.3f} | {media - page:.3f} |")
    print()
    for name, samples in times.items():
        print(f"{name}: " + ", ".join(f"{p:.3f}/{m:.3f}" for p, m in samples))
    print(f"\nload average (1/5/15 min): {_load(load[0])} before, {_load(load[1])} after")


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.1f}" for x in load)


if __name__ == "__main__":
    raise SystemExit(main())
