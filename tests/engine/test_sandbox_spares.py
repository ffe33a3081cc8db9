"""Spare extraction processes: forked and set up before a link arrives, each used for one
extraction only, replaced when they die, gone when the pool closes or the server dies."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediadl.engine.sandbox import ExtractorPool
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite
from support.probe_extractor import ProbeIE
from support.procs import descendants
from support.server import serving

pytestmark = pytest.mark.slow

PROBE = "https://probe.invalid/one"
PATIENCE = 60.0
"""How long a test waits for something to happen at all (not a measure of speed)."""


@pytest.fixture
def bounded(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"allow_networks": ["127.0.0.2/32"], "allow_private": False, "extract_timeout": 30}
    )


@pytest.fixture
async def pool(bounded: Settings) -> AsyncIterator[ExtractorPool]:
    pool = ExtractorPool(bounded, [ProbeIE], workers=4)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(PATIENCE / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def spares(pool: ExtractorPool) -> set[int]:
    await until(lambda: bool(pool.waiting), "a spare waits")
    return set(pool.waiting)


async def probe(pool: ExtractorPool, *, playlist: bool = True) -> dict[str, Any]:
    """What the process that extracted a link reports of itself (``support.probe_extractor``)."""
    info = await pool.resolve(PROBE, playlist=playlist)
    state = json.loads(info.title)
    assert isinstance(state, dict)
    return state


def gone(pid: int) -> bool:
    """No such process, or one that ended and waits only to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def test_a_resolve_is_answered_by_a_process_started_before_it(pool: ExtractorPool) -> None:
    before = await spares(pool)
    started = {p.pid for p in multiprocessing.active_children() if p.name == "mediadl-extract"}
    assert before <= started
    state = await probe(pool)
    assert state["pid"] in before
    assert state["pid"] != os.getpid()
    assert state["extractions_here"] == 1


async def test_each_extraction_runs_in_a_process_never_used_before(pool: ExtractorPool) -> None:
    one_by_one = [await probe(pool) for _ in range(3)]
    together = await asyncio.gather(*(probe(pool) for _ in range(4)))  # past the one spare
    states = [*one_by_one, *together]
    assert len({state["pid"] for state in states}) == len(states)
    assert all(state["extractions_here"] == 1 for state in states)
    assert not {state["pid"] for state in states} & set(pool.waiting)


async def test_a_killed_spare_is_replaced(pool: ExtractorPool) -> None:
    (killed,) = await spares(pool)
    os.kill(killed, signal.SIGKILL)
    await until(lambda: bool(pool.waiting) and killed not in pool.waiting, "a new spare")
    (replacement,) = pool.waiting
    state = await probe(pool)
    assert state["pid"] == replacement
    await until(lambda: gone(killed), "the killed spare reaped")


async def test_a_request_with_other_options_gets_its_own(pool: ExtractorPool) -> None:
    """The spare's ``YoutubeDL`` is built for a playlist's entries listed; an entry resolved on
    its own (``playlist=False``) gets one built for that, in the same fresh process."""
    before = await spares(pool)
    single = await probe(pool, playlist=False)
    assert single["noplaylist"] is True
    assert single["pid"] in before
    listed = await probe(pool)
    assert listed["noplaylist"] is False
    assert listed["pid"] != single["pid"]


async def test_close_leaves_no_process(bounded: Settings) -> None:
    pool = ExtractorPool(bounded, [ProbeIE], workers=2, spares=2)
    await pool.start()
    await until(lambda: len(pool.waiting) == 2, "two spares wait")
    waited = set(pool.waiting)
    answered = {(await probe(pool))["pid"] for _ in range(2)}
    await until(lambda: len(pool.waiting) == 2, "two spares again")
    waited |= set(pool.waiting)
    await pool.close()
    assert all(gone(pid) for pid in waited | answered)
    assert pool.waiting == []
    assert not [p for p in multiprocessing.active_children() if p.name == "mediadl-extract"]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_servers_processes_leave_with_it(
    tmp_path: Path, site: FixtureSite, how: signal.Signals
) -> None:
    """Stopped or killed outright, the server leaves no extraction process behind."""
    with serving(tmp_path) as server:
        r = httpx.post(
            f"{server.base}/api/v1/resolve", json={"url": site.pages["video"]}, timeout=60
        )
        assert r.status_code == 200, r.text
        tree = {pid for pid, _ in descendants(server.proc.pid)}
        assert len(tree) >= 3  # the forkserver, its resource tracker, a spare at least
        server.proc.send_signal(how)
        server.proc.wait(PATIENCE)
    asyncio.run(until(lambda: all(gone(pid) for pid in tree), "every process gone"))
