"""``make bench``: ``mediadl get`` against curl, aria2c and yt-dlp on the fixture site.

Starts the fixture site (benchmark-sized media, ``Recipe.big()``) in this process, with every
response 50 ms late and either each connection capped at 2.5 MB/s ("per-connection"), the whole
server capped at 10 MB/s ("server-wide"), or each connection capped and each client allowed
``CDN_CONNECTIONS`` open connections, a 429 with ``Retry-After: 1`` past them ("cdn"). Then, for
each payload — a 100 MB progressive MP4, HLS 1080p (TS) + audio, DASH 1080p + audio — it runs every
tool once per round, rounds interleaved, and reports the median wall time, CPU seconds (user +
system, children included), peak RSS, the connections the server saw (opened in all, and open at
once at most; in cdn mode also after the site's first 429), the time from starting the tool to the
site's first request and from there to the tool's exit, with the ratio ``mediadl / peer``, the
physical limit and the issue's targets. ``--baseline SRC`` adds "mediadl (before)", the ``mediadl``
of another source tree, to the same interleaved rounds.

mediadl and yt-dlp are given the page that embeds the media (end to end: read the page, find the
media, resolve it, pick best video + audio, merge with ffmpeg); aria2c the MP4's own URL, curl the
MP4 or the list of segment URLs of the same two renditions (no merge). ``mediadl get`` runs with
``--no-metadata`` (yt-dlp embeds none by default either).

The physical limit of a payload is its bytes ÷ (16 connections × 2.5 MB/s; the CDN's allowance
for "cdn"; 10 MB/s in all for "server-wide") plus one request's latency. A startup table times
``mediadl --help`` and ``--version`` beside ``yt-dlp --version``.

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
from results_file import write_section
from trees import source

HOST = "127.0.0.2"
TIME = "/usr/bin/time"
LATENCY_MS = 50
PER_CONNECTION = 2_500_000
SERVER_WIDE = 10_000_000
CONNECTIONS = 16
CDN_CONNECTIONS = 8
BIN = Path(sys.executable).parent
MODES = {
    "per-connection": {"latency": LATENCY_MS, "rate": PER_CONNECTION},
    "server-wide": {"latency": LATENCY_MS, "total_rate": SERVER_WIDE},
    "cdn": {
        "latency": LATENCY_MS,
        "rate": PER_CONNECTION,
        "conn_limit": CDN_CONNECTIONS,
        "conn_retry": 1.0,
    },
}
PAGES = {"progressive": "video", "hls": "hls", "dash": "dash"}
"""The fixture page that embeds each payload."""
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
    first_request: float
    """Seconds from starting the tool to the site's first request."""
    nbytes: int
    refused: int
    """Requests the site answered 429 (cdn mode)."""
    ok: bool
    error: str = ""
    after_429: float = float("nan")
    """The most connections open at once after the site's first 429 (cdn mode)."""

    @property
    def after_first(self) -> float:
        """Seconds from the site's first request to the tool's exit: what the tool does once it
        has started (read the page, fetch, mux), without its own start."""
        return self.wall - self.first_request


@dataclass
class Payload:
    name: str
    url: str
    page: str
    segments: list[str] = field(default_factory=list)
    """Segment URLs for curl (empty: ``url`` is a single file)."""


Command = Callable[[Payload, Path], list[str] | None]


def mediadl(payload: Payload, out: Path) -> list[str]:
    exe = BIN / "mediadl"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "mediadl"]
    return [*head, "get", "--no-metadata", "-o", str(out), payload.page]


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
            payload.page,
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
    "mediadl (before)": mediadl,
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
    pages = {name: site.url(page) for name, page in PAGES.items()}
    hls_urls = [u for f in _best(hls) for u in _hls_urls(f)]
    dash_urls = [u for f in _best(dash) for u in _dash_urls(f)]
    return [
        Payload("progressive", site.url("progressive"), pages["progressive"]),
        Payload("hls", site.url("hls_master"), pages["hls"], hls_urls),
        Payload("dash", site.url("dash_mpd"), pages["dash"], dash_urls),
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
    stats = site.stats
    first = stats.first_request_at - started if stats.first_request_at else float("nan")
    return Sample(
        wall,
        float(user) + float(system),
        int(rss_kb) / 1024,
        stats.connections_opened,
        stats.peak_connections,
        first,
        stats.bytes_sent,
        stats.statuses[429],
        done.returncode == 0,
        error,
        float("nan") if stats.peak_after_429 is None else stats.peak_after_429,
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

BASELINE = "mediadl (before)"
"""With ``--baseline SRC``: mediadl's ``get`` run from another source tree (``PYTHONPATH=SRC``), in
the same interleaved rounds, so a change is measured against what it changed."""


def env_for(tool: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    """The baseline runs with a data folder of its own: each tree keeps its own caches (the URL
    and embed indexes), as an installation does; sharing one, each would replace the other's
    (a cache built by other code is stale) and both would pay a first run every time."""
    if tool != BASELINE:
        return env
    data = Path(env["MEDIADL_DATA_DIR"])
    return {**env, "PYTHONPATH": str(args.baseline), "MEDIADL_DATA_DIR": str(data.parent / "base")}


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
                sample = measure(argv, site, env_for(name, env, args), work)
                sample.ok = sample.ok and any(out.iterdir())
                subprocess.run(["rm", "-rf", str(out)], check=True)
                if round_ >= 0:
                    results.setdefault((payload.name, name), []).append(sample)
                _progress(mode, round_, payload.name, name, sample)
    return results


def _wanted(tool: str, mode: str, args: argparse.Namespace) -> bool:
    if tool in args.skip:
        return False
    if tool == BASELINE:
        return args.baseline is not None
    if mode in ("server-wide", "cdn"):
        return tool != "yt-dlp" and not (mode == "cdn" and tool == "curl")
    return not (args.quick and tool in SLOW)


def _progress(mode: str, round_: int, payload: str, tool: str, sample: Sample) -> None:
    label = "warm-up" if round_ < 0 else f"round {round_ + 1}"
    state = "ok" if sample.ok else f"FAILED {sample.error}"
    print(
        f"[{mode} {label}] {payload:11} {tool:13} {sample.wall:7.2f} s  "
        f"cpu {sample.cpu:5.2f} s  rss {sample.rss_mb:6.1f} MB  "
        f"conns {sample.connections:3} ({sample.at_once} at once)  "
        f"first request {sample.first_request:5.2f} s  429s {sample.refused}  {state}",
        file=sys.stderr,
        flush=True,
    )


def median(samples: list[Sample], attr: str) -> float:
    return statistics.median(getattr(s, attr) for s in samples)


MODE_TITLES = {
    "per-connection": f"{PER_CONNECTION / 1e6:g} MB/s per connection",
    "server-wide": f"{SERVER_WIDE / 1e6:g} MB/s for the whole server",
    "cdn": f"{PER_CONNECTION / 1e6:g} MB/s per connection, {CDN_CONNECTIONS} connections per "
    "client (429 + Retry-After: 1 past them)",
}


def limit_seconds(mode: str, nbytes: float) -> float:
    """The physical limit: bytes ÷ (connections × per-connection rate) + one request latency."""
    if mode == "server-wide":
        rate = float(SERVER_WIDE)
    else:
        rate = (CDN_CONNECTIONS if mode == "cdn" else CONNECTIONS) * float(PER_CONNECTION)
    return nbytes / rate + LATENCY_MS / 1000


def table(mode: str, results: Results) -> list[str]:
    lines = [
        f"### {mode}: latency {LATENCY_MS} ms, {MODE_TITLES[mode]}",
        "",
        "| payload | tool | wall s | CPU s | peak RSS MB | connections (at once"
        + ("; after the first 429" if mode == "cdn" else "")
        + ") "
        "| first request s | after it s | 429s | limit / wall | mediadl / tool |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (payload, tool), samples in results.items():
        ours = results.get((payload, "mediadl"))
        ratio = median(ours, "wall") / median(samples, "wall") if ours else float("nan")
        failed = sum(not s.ok for s in samples)
        note = f" ({failed} failed)" if failed else ""
        physical = limit_seconds(mode, median(ours or samples, "nbytes"))
        after = median(samples, "after_429")
        at_once = f"{median(samples, 'at_once'):.0f}"
        if mode == "cdn":
            at_once += "; none after a 429" if after != after else f"; {after:.0f} after 429"
        lines.append(
            f"| {payload} | {tool}{note} | {median(samples, 'wall'):.2f} | "
            f"{median(samples, 'cpu'):.2f} | {median(samples, 'rss_mb'):.0f} | "
            f"{median(samples, 'connections'):.0f} ({at_once}) | "
            f"{median(samples, 'first_request'):.2f} | {median(samples, 'after_first'):.2f} | "
            f"{median(samples, 'refused'):.0f} | "
            f"{physical / median(samples, 'wall'):.2f} | "
            f"{'—' if tool == 'mediadl' else f'{ratio:.2f}'} |"
        )
    return [*lines, ""]


TARGETS: list[tuple[str, str, str, str, float]] = [
    ("per-connection", "progressive", "aria2c", "wall", 1.0),
    ("per-connection", "hls", "yt-dlp -N 16", "wall", 0.8),
    ("per-connection", "dash", "yt-dlp -N 16", "wall", 0.75),
    *[("server-wide", p, "curl", "wall", 1.1) for p in PAYLOADS],
    *[("per-connection", p, "yt-dlp -N 16", "rss_mb", 1.0) for p in PAYLOADS],
    *[("per-connection", p, "yt-dlp -N 16", "cpu", 1.0) for p in PAYLOADS],
    ("cdn", "progressive", "aria2c", "wall", 1.0),
    *[("cdn", p, "yt-dlp -N 16", "wall", 1.0) for p in ("hls", "dash")],
]


def targets(all_results: dict[str, Results]) -> list[str]:
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
    for mode, results in all_results.items():
        most = 4 if mode == "server-wide" else CONNECTIONS
        for payload in PAYLOADS:
            ours = results.get((payload, "mediadl"))
            if not ours:
                continue
            conns = max(s.at_once for s in ours)
            first = median(ours, "first_request")
            lines.append(
                f"| {mode} | {payload} | connections open at once (most) | {conns} | ≤ {most} | "
                f"{'yes' if conns <= most else 'NO'} |"
            )
            if mode == "cdn":  # the allowance, once the CDN has said where it is
                after = max((s.after_429 for s in ours if s.after_429 == s.after_429), default=0)
                lines.append(
                    f"| cdn | {payload} | connections at once after the first 429 (most) | "
                    f"{after:.0f} | ≤ {CDN_CONNECTIONS} | "
                    f"{'yes' if after <= CDN_CONNECTIONS else 'NO'} |"
                )
            lines.append(
                f"| {mode} | {payload} | first request, s | {first:.2f} | ≤ 0.3 | "
                f"{'yes' if first <= 0.3 else 'NO'} |"
            )
            if mode == "cdn":  # one burst refused, then within the allowance
                refused = median(ours, "refused")
                lines.append(
                    f"| cdn | {payload} | 429s answered | {refused:.0f} | ≤ {CONNECTIONS} | "
                    f"{'yes' if refused <= CONNECTIONS else 'NO'} |"
                )
    return [*lines, ""]


STARTUP = {
    "mediadl --help": ["mediadl", "--help"],
    "mediadl --version": ["mediadl", "--version"],
    "yt-dlp --version": ["yt-dlp", "--version"],
}


def startup(runs: int, env: dict[str, str]) -> list[str]:
    """Median wall time and peak RSS of the quick commands, interleaved."""
    times: dict[str, list[float]] = {name: [] for name in STARTUP}
    rss: dict[str, list[float]] = {name: [] for name in STARTUP}
    with tempfile.TemporaryDirectory(prefix="mediadl-bench-") as scratch:
        report = Path(scratch) / "time.txt"
        for _ in range(max(runs, 5)):
            for name, (exe, *args) in STARTUP.items():
                started = time.monotonic()
                subprocess.run(
                    [TIME, "-f", "%M", "-o", str(report), str(BIN / exe), *args],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
                times[name].append(time.monotonic() - started)
                rss[name].append(int(report.read_text().split()[-1]) / 1024)
    lines = [
        f"### startup: median of {max(runs, 5)} interleaved runs",
        "",
        "| command | wall s | peak RSS MB | target | met |",
        "|---|---:|---:|---:|---|",
    ]
    for name in STARTUP:
        wall = statistics.median(times[name])
        target = "≤ 0.15" if name.startswith("mediadl") else "—"
        met = ("yes" if wall <= 0.15 else "NO") if name.startswith("mediadl") else ""
        lines.append(
            f"| {name} | {wall:.3f} | {statistics.median(rss[name]):.0f} | {target} | {met} |"
        )
    return [*lines, ""]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


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
    parser.add_argument(
        "--out", type=Path, help="write the report (markdown) into its section of this file"
    )
    parser.add_argument(
        "--baseline",
        type=source,
        help=f"a source tree (its src/) whose mediadl runs too, as '{BASELINE}'",
    )
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
    load_before = _load()
    env = child_env(Path(tempfile.mkdtemp(prefix="mediadl-bench-env-")))
    report = [
        "## mediadl fetch benchmark (`make bench`)",
        "",
        f"Medians of {args.runs} interleaved rounds after {args.warmup} untimed.",
        "",
    ]
    report += startup(args.runs, env)
    all_results = {mode: run_mode(mode, args, media) for mode in args.modes}
    for mode, results in all_results.items():
        report += table(mode, results)
    report += targets(all_results)
    report.append(f"Load average (1 / 5 / 15 min): {load_before} before, {_load()} after.")
    text = "\n".join(report)
    print(text)
    if args.out:
        write_section(args.out, text + "\n")
    return 0


def _which(tool: str) -> bool:
    return any((Path(p) / tool).exists() for p in os.environ.get("PATH", "").split(os.pathsep))


if __name__ == "__main__":
    raise SystemExit(main())
