"""Where ``mediadl get`` spends the time after the last byte of an HLS or DASH download arrives.

Starts the fixture site with the bench's knobs (benchmark media, 50 ms latency, 2.5 MB/s per
connection), runs ``mediadl get --no-metadata <page>`` under ``strace -f`` (process starts and
exits, renames and links only, so the fetch runs at full speed), notes when the site finished
sending each response, and prints a timeline from the last byte sent to the process's exit: the
probe process, ffmpeg, the rename of the finished file, publishing, exit.

    python bench/finish_trace.py [--payloads hls dash] [--runs 3] [--src TREE]

``--src TREE`` runs the ``mediadl`` of another source tree (``PYTHONPATH=TREE``).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mediadl_fixtures import FixtureSite, Recipe, running_site
from mediadl_fixtures.media import ensure_media

sys.path.insert(0, str(Path(__file__).parent))
from fetch_bench import HOST, MODES, PAGES, child_env
from trees import source

_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
_SENT: list[float] = []
_STARTED: list[float] = []


def _record_sends() -> None:
    """Note (wall clock) when the site starts each response body and has handed it to the socket."""
    original = FixtureSite._send_body

    async def send_body(self: FixtureSite, writer: Any, body: Any) -> bool:
        _STARTED.append(time.time())
        done = await original(self, writer, body)
        await writer.drain()
        _SENT.append(time.time())
        return done

    FixtureSite._send_body = send_body  # type: ignore[method-assign]


def trace_once(page: str, work: Path, env: dict[str, str]) -> dict[str, float]:
    """One run: each event's seconds after the last byte the site sent."""
    out = work / "out"
    trace = work / "strace.txt"
    _SENT.clear()
    _STARTED.clear()
    exe = Path(sys.executable).parent / "mediadl"
    argv = [str(exe), "get", "--no-metadata", "-o", str(out), page]
    subprocess.run(
        [
            "strace",
            "-f",
            "-ttt",
            "-qq",
            "--seccomp-bpf",
            "-e",
            "trace=execve,exit_group,rename,renameat,renameat2,link,linkat",
            "-o",
            str(trace),
            *argv,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    last = max(_SENT)
    events = _events(trace.read_text(), last)
    events["first body"] = min(_STARTED) - last
    return events


def _events(text: str, last: float) -> dict[str, float]:
    events: dict[str, float] = {}
    main_pid: str | None = None
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        pid, when, call = m[1], float(m[2]) - last, m[3]
        if main_pid is None:
            main_pid = pid
            events["exec"] = when
        if call.startswith("execve(") and "mediadl.avprobe" in call:
            events.setdefault("probe start", when)
            events["_probe_pid"] = float(pid)
        elif call.startswith("execve(") and "ffmpeg" in call and "= 0" in call:
            events["ffmpeg start"] = when  # the mux's: the last one started
            events["_ffmpeg_pid"] = float(pid)
        elif call.startswith("exit_group("):
            if events.get("_probe_pid") == float(pid):
                events["probe end"] = when
            elif events.get("_ffmpeg_pid") == float(pid):
                events["ffmpeg end"] = when
            elif pid == main_pid:
                events["exit"] = when
        elif call.startswith("rename") and "muxing." in call:
            events["output renamed"] = when
        elif call.startswith("link") and "output." in call:
            events["published"] = when
        elif "+++ exited" in call and pid == main_pid:
            events["exit"] = when
    return {k: v for k, v in events.items() if not k.startswith("_")}


ORDER = (
    "exec",
    "first body",
    "probe start",
    "probe end",
    "ffmpeg start",
    "ffmpeg end",
    "output renamed",
    "published",
    "exit",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payloads", nargs="+", default=["hls", "dash"], choices=["hls", "dash"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--src", type=source, help="another source tree's mediadl (PYTHONPATH)")
    args = parser.parse_args()
    _record_sends()
    media = ensure_media(Recipe.big())
    with (
        running_site(HOST, media=media, **MODES["per-connection"]) as site,
        tempfile.TemporaryDirectory(prefix="mediadl-trace-") as scratch,
    ):
        env = child_env(Path(scratch))
        if args.src:
            env["PYTHONPATH"] = str(args.src)
        for payload in args.payloads:
            runs = []
            for i in range(args.runs):
                work = Path(scratch) / f"{payload}{i}"
                work.mkdir()
                runs.append(trace_once(site.url(PAGES[payload]), work, env))
            print(f"{payload}: seconds after the last byte sent (median of {args.runs}; runs)")
            for name in ORDER:
                values = [r[name] for r in runs if name in r]
                if values:
                    each = " ".join(f"{v:.3f}" for v in values)
                    print(f"  {name:15} {statistics.median(values):7.3f}   ({each})")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
