"""What a process left running, read from ``/proc``, and waiting for a state (not a duration)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["descendants", "eventually", "ffmpeg_children"]

T = TypeVar("T")


def _parents() -> dict[int, tuple[int, str]]:
    """Every live process: pid -> (parent pid, command name)."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            name = f"{name} <defunct>"
        table[int(entry.name)] = (int(fields[1]), name)
    return table


def descendants(pid: int) -> list[tuple[int, str]]:
    """The processes under ``pid`` (children, theirs…), zombies included: (pid, name)."""
    table = _parents()
    found: list[tuple[int, str]] = []
    wanted = {pid}
    while True:
        more = [(p, name) for p, (parent, name) in table.items() if parent in wanted]
        more = [item for item in more if item[0] not in wanted]
        if not more:
            return found
        found += more
        wanted |= {p for p, _ in more}


def ffmpeg_children(pid: int) -> list[tuple[int, str]]:
    """ffmpeg processes under ``pid``, running or not yet reaped."""
    return [item for item in descendants(pid) if "ffmpeg" in item[1]]


def eventually(probe: Callable[[], T], *, guard: float = 60.0, every: float = 0.05) -> T:
    """``probe()``'s first true answer. ``guard`` only stops a test that would hang: the test
    asserts the state reached, never how long it took."""
    deadline = time.monotonic() + guard
    while True:
        answer = probe()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every)


if not Path(f"/proc/{os.getpid()}/stat").exists():  # pragma: no cover - Linux only
    raise ImportError("support.procs reads /proc")
