"""``make bench``: ``mediadl get`` against curl, aria2c and yt-dlp on the fixture site.

Starts the fixture site (benchmark-sized media, ``Recipe.big()``) in this process, with every
response 50 ms late and either each connection capped at 2.5 MB/s ("per-connection") or the whole
server capped at 10 MB/s ("server-wide"). Then, for each payload — a 100 MB progressive MP4, HLS
1080p (TS) + audio, DASH 1080p + audio — it runs every tool once per round, rounds interleaved, and
reports the median wall time, CPU seconds (user + system, children included), peak RSS and the
connections the server saw (opened in all, and open at once at most), with the ratio
``mediadl / peer`` and the issue's targets.

Every tool is given the media URL itself (the MP4, the HLS master playlist, the MPD): mediadl and
yt-dlp resolve it and pick best video + audio, merging with ffmpeg; curl gets the list of segment
URLs of the same two renditions (no merge). ``mediadl get`` runs with ``--no-metadata`` (yt-dlp
embeds none by default either).

    python bench/fetch_bench.py [--runs 3] [--quick] [--out bench/results.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from mediadl.engine.extract import resolve
from mediadl.engine.fetch.hls import parse_media_playlist
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures import FixtureSite, Recipe, running_site

HOST = "127.0.0.2"
TIME = "/usr/bin/time"
LATENCY_MS = 50
PER_CONNECTION = 2_500_000
SERVER_WIDE = 10_000_000
BIN = Path(sys.executable).parent
MODES = {
    "per-connection": {"latency": LATENCY_MS, "rate": PER_CONNECTION},
    "server-wide": {"latency": LATENCY_MS, "total_rate": SERVER_WIDE},
}
PAYLOADS = ("progressive", "hls", "dash")
SLOW = {"curl", "yt-dlp"}
"""Single-connection baselines that take ~40 s a run in per-connection mode (``--quick`` skips)."""


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    connections: int
    at_once: int
    ok: bool
    error: str = ""


@dataclass
class Payload:
    name: str
    url: str
    segments: list[str] = field(default_factory=list)
    """Segment URLs for curl (empty: ``url`` is a single file)."""


Command = Callable[[Payload, Path], list[str] | None]


def mediadl(payload: Payload, out: Path) -> list[str]:
    exe = BIN / "mediadl"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "mediadl"]
    return [*head, "get", "--no-metadata", "-o", str(out), payload.url]


def ytdlp(*extra: str) -> Command:
    def command(payload: Payload, out: Path) -> list[str]:
        return [
            str(BIN / "yt-dlp"),
            "--no-config",
            "--no-cache-dir",
            "-q",
            "--no-progress",
            *extra,
            "-o",
            str(out / "out.%(ext)s"),
            payload.url,
        ]

    return command


def curl(*extra: str, segments_only: bool = False) -> Command:
    def command(payload: Payload, out: Path) -> list[str] | None:
        if segments_only and not payload.segments:
            return None
        urls = payload.segments or [payload.url]
        targets = [a for i, u in enumerate(urls) for a in ("-o", str(out / f"{i:05d}"), u)]
        return ["curl", "-s", "-f", *extra, *targets]

    return command


def aria2c(payload: Payload, out: Path) -> list[str] | None:
    if payload.segments:
        return None
    return [
        "aria2c",
        "-q",
        "-x16",
        "-s16",
        "-k1M",
        "--file-allocation=none",
        "--allow-overwrite=true",
        "-d",
        str(out),
        "-o",
        "out.mp4",
        payload.url,
    ]


TOOLS: dict[str, Command] = {
    "mediadl": mediadl,
    "curl": curl(),
    "curl -Z": curl("-Z", "--parallel-max", "16", segments_only=True),
    "aria2c": aria2c,
    "yt-dlp": ytdlp(),
    "yt-dlp -N 16": ytdlp("-N", "16"),
}


def payloads(site: FixtureSite) -> list[Payload]:
    """The three payloads, with curl's segment lists from the renditions mediadl would pick."""
    settings = Settings(allow_networks=["127.0.0.2/32"])
    hls = resolve(site.url("hls_master"), settings).formats
    dash = resolve(site.url("dash_mpd"), settings).formats
    return [
        Payload("progressive", site.url("progressive")),
        Payload("hls", site.url("hls_master"), [u for f in _best(hls) for u in _hls_urls(f)]),
        Payload("dash", site.url("dash_mpd"), [u for f in _best(dash) for u in _dash_urls(f)]),
    ]


def _best(formats: Sequence[Format]) -> list[Format]:
    video = max((f for f in formats if f.has_video), key=lambda f: (f.height or 0, f.tbr or 0))
    audio = max((f for f in formats if not f.has_video), key=lambda f: f.tbr or 0)
    return [video, audio]


def _hls_urls(fmt: Format) -> list[str]:
    with urllib.request.urlopen(fmt.url) as answer:
        text = answer.read().decode()
    return [part.url for part in parse_media_playlist(text, fmt.url)]


def _dash_urls(fmt: Format) -> list[str]:
    base = str(fmt.raw.get("fragment_base_url") or "")
    return [f.get("url") or base + f["path"] for f in fmt.raw["fragments"]]


def measure(argv: list[str], site: FixtureSite, env: dict[str, str], work: Path) -> Sample:
    """Run once under ``/usr/bin/time``: wall time, CPU and peak RSS of the tool's process tree.

    (``wait4`` from this process would count our own memory: a child's peak RSS includes what
    it had before ``exec``, a copy of its parent.)
    """
    site.reset_counters()
    report = work / "time.txt"
    started = time.monotonic()
    done = subprocess.run(
        [TIME, "-f", "%U %S %M", "-o", str(report), *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.monotonic() - started
    user, system, rss_kb = report.read_text().split("\n")[-2].split()
    error = done.stderr.decode(errors="replace")[-300:].strip()
    return Sample(
        wall,
        float(user) + float(system),
        int(rss_kb) / 1024,
        site.stats.connections_opened,
        site.stats.peak_connections,
        done.returncode == 0,
        error,
    )


def child_env(work: Path) -> dict[str, str]:
    """PATH with an ``ffmpeg`` for yt-dlp's merges; mediadl's state in a scratch folder."""
    tools = work / "bin"
    tools.mkdir(exist_ok=True)
    ffmpeg = tools / "ffmpeg"
    if not ffmpeg.exists():
        ffmpeg.symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PATH"] = f"{tools}{os.pathsep}{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MEDIADL_DATA_DIR"] = str(work / "data")
    return env


Results = dict[tuple[str, str], list[Sample]]


def run_mode(mode: str, args: argparse.Namespace, media: Any) -> Results:
    results: Results = {}
    with (
        running_site(HOST, media=media, **MODES[mode]) as site,
        tempfile.TemporaryDirectory(prefix="mediadl-bench-") as scratch,
    ):
        work = Path(scratch)
        env = child_env(work)
        plan = [
            (p, name, command)
            for p in payloads(site)
            if p.name in args.payloads
            for name, command in TOOLS.items()
            if command(p, work) is not None and _wanted(name, mode, args)
        ]
        for round_ in range(-args.warmup, args.runs):
            for payload, name, command in plan:
                if round_ < 0 and name in SLOW:
                    continue
                out = work / "out"
                out.mkdir()
                argv = command(payload, out)
                assert argv is not None
                sample = measure(argv, site, env, work)
                sample.ok = sample.ok and any(out.iterdir())
                subprocess.run(["rm", "-rf", str(out)], check=True)
                if round_ >= 0:
                    results.setdefault((payload.name, name), []).append(sample)
                _progress(mode, round_, payload.name, name, sample)
    return results


def _wanted(tool: str, mode: str, args: argparse.Namespace) -> bool:
    if tool in args.skip:
        return False
    if mode == "server-wide":
        return tool != "yt-dlp"  # one connection like curl: it adds nothing but minutes
    return not (args.quick and tool in SLOW)


def _progress(mode: str, round_: int, payload: str, tool: str, sample: Sample) -> None:
    label = "warm-up" if round_ < 0 else f"round {round_ + 1}"
    state = "ok" if sample.ok else f"FAILED {sample.error}"
    print(
        f"[{mode} {label}] {payload:11} {tool:13} {sample.wall:7.2f} s  "
        f"cpu {sample.cpu:5.2f} s  rss {sample.rss_mb:6.1f} MB  "
        f"conns {sample.connections:3} ({sample.at_once} at once)  {state}",
        file=sys.stderr,
        flush=True,
    )


def median(samples: list[Sample], attr: str) -> float:
    return statistics.median(getattr(s, attr) for s in samples)


def table(mode: str, results: dict[tuple[str, str], list[Sample]]) -> list[str]:
    lines = [
        f"### {mode}: latency {LATENCY_MS} ms, "
        + (
            f"{PER_CONNECTION / 1e6:g} MB/s per connection"
            if mode == "per-connection"
            else f"{SERVER_WIDE / 1e6:g} MB/s for the whole server"
        ),
        "",
        "| payload | tool | wall s | CPU s | peak RSS MB | connections (at once) "
        "| mediadl / tool |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (payload, tool), samples in results.items():
        ours = results.get((payload, "mediadl"))
        ratio = median(ours, "wall") / median(samples, "wall") if ours else float("nan")
        failed = sum(not s.ok for s in samples)
        note = f" ({failed} failed)" if failed else ""
        lines.append(
            f"| {payload} | {tool}{note} | {median(samples, 'wall'):.2f} | "
            f"{median(samples, 'cpu'):.2f} | {median(samples, 'rss_mb'):.0f} | "
            f"{median(samples, 'connections'):.0f} ({median(samples, 'at_once'):.0f}) | "
            f"{'—' if tool == 'mediadl' else f'{ratio:.2f}'} |"
        )
    return [*lines, ""]


TARGETS: list[tuple[str, str, str, str, float]] = [
    ("per-connection", "progressive", "aria2c", "wall", 1.0),
    ("per-connection", "hls", "yt-dlp -N 16", "wall", 0.85),
    ("per-connection", "hls", "curl -Z", "wall", 1.1),
    ("per-connection", "dash", "yt-dlp -N 16", "wall", 0.8),
    *[("server-wide", p, "curl", "wall", 1.1) for p in PAYLOADS],
    *[("per-connection", p, "yt-dlp -N 16", m, 1.0) for p in PAYLOADS for m in ("rss_mb", "cpu")],
]


def targets(all_results: dict[str, dict[tuple[str, str], list[Sample]]]) -> list[str]:
    lines = [
        "### targets",
        "",
        "| mode | payload | measure | mediadl / peer | target | met |",
        "|---|---|---|---:|---:|---|",
    ]
    for mode, payload, peer, attr, limit in TARGETS:
        results = all_results.get(mode, {})
        ours, theirs = results.get((payload, "mediadl")), results.get((payload, peer))
        if not ours or not theirs:
            continue
        ratio = median(ours, attr) / median(theirs, attr)
        lines.append(
            f"| {mode} | {payload} | {attr} vs {peer} | {ratio:.2f} | ≤ {limit:g} | "
            f"{'yes' if ratio <= limit else 'NO'} |"
        )
    for payload in PAYLOADS:
        ours = all_results.get("server-wide", {}).get((payload, "mediadl"))
        if ours:
            conns = median(ours, "at_once")
            lines.append(
                f"| server-wide | {payload} | connections open at once | "
                f"{conns:.0f} | ≤ 4 | {'yes' if conns <= 4 else 'NO'} |"
            )
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed rounds (median of these)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the ~40 s single-connection baselines in per-connection mode",
    )
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--payloads", nargs="+", default=list(PAYLOADS), choices=PAYLOADS)
    parser.add_argument("--skip", nargs="*", default=[], choices=list(TOOLS), help="tools")
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = parser.parse_args(argv)
    if not Path(TIME).exists():
        print("needs /usr/bin/time (apt-get install time)", file=sys.stderr)
        return 2
    missing = [t for t in ("curl", "aria2c") if not _which(t)]
    if missing:
        print(
            f"not installed, skipped: {', '.join(missing)} (apt-get install aria2 curl)",
            file=sys.stderr,
        )
        args.skip += [t for t in TOOLS if t.split()[0] in missing]
    print("preparing benchmark media (generated once, then cached)...", file=sys.stderr)
    from mediadl_fixtures import ensure_media

    media = ensure_media(Recipe.big())
    all_results = {mode: run_mode(mode, args, media) for mode in args.modes}
    report = [f"## mediadl fetch benchmark: median of {args.runs} interleaved rounds", ""]
    for mode, results in all_results.items():
        report += table(mode, results)
    report += targets(all_results)
    text = "\n".join(report)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


def _which(tool: str) -> bool:
    return any((Path(p) / tool).exists() for p in os.environ.get("PATH", "").split(os.pathsep))


if __name__ == "__main__":
    raise SystemExit(main())
