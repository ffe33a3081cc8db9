"""Extraction in killable child processes: the server's bound on time and memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from mediadl import errors
from mediadl.engine.sandbox import ExtractorPool
from mediadl.settings import Settings
from mediadl_fixtures.hostile import Canary, HostileSite
from mediadl_fixtures.server import FixtureSite
from support.server import serving

pytestmark = pytest.mark.slow


@pytest.fixture
def bounded(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "allow_networks": ["127.0.0.2/32"],
            "allow_private": False,
            "extract_timeout": 2.0,
            "extract_memory": 512 << 20,
        }
    )


@pytest.fixture
async def pools() -> AsyncIterator[Callable[..., ExtractorPool]]:
    """``pools(settings, ...)``: an ``ExtractorPool``, closed (its spares ended) after the test."""
    made: list[ExtractorPool] = []

    def make(*args: Any, **kwargs: Any) -> ExtractorPool:
        made.append(ExtractorPool(*args, **kwargs))
        return made[-1]

    yield make
    for pool in made:
        await pool.close()


async def test_a_page_resolves_in_a_child(
    bounded: Settings, site: FixtureSite, pools: Callable[..., ExtractorPool]
) -> None:
    pool = pools(bounded, workers=2)
    info = await pool.resolve(site.pages["video"])
    assert info.title.startswith("Fixture video")
    assert info.formats[0].url.startswith("http://127.0.0.2:")


async def test_a_slow_drip_is_killed_at_the_deadline(
    bounded: Settings, hostile: HostileSite
) -> None:
    pool = ExtractorPool(bounded, workers=2)
    finished = hostile.drips_finished
    with pytest.raises(errors.FetchTimeout):
        await pool.resolve(hostile.url("/slow"))
    assert hostile.drips_finished == finished  # killed while the page still dripped
    await pool.close()  # ends the spares, not an extraction left running
    assert not [p for p in multiprocessing.active_children() if p.name == "mediadl-extract"]


async def test_a_manifest_bomb_meets_the_memory_cap(
    bounded: Settings, hostile: HostileSite
) -> None:
    """The process it filled is gone, a spare waits for the next link, and closing the pool
    leaves no process behind."""
    pool = ExtractorPool(bounded.model_copy(update={"extract_timeout": 60.0}), workers=1)
    with pytest.raises(errors.ContentTooLarge):
        await pool.resolve(hostile.url("/dash/bomb.mpd?seconds=2000"))
    for _ in range(1200):  # a minute at most: the replacement is forked in the background
        if pool.waiting:
            break
        await asyncio.sleep(0.05)
    assert len(pool.waiting) == 1
    await pool.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "mediadl-extract"]


async def test_errors_cross_the_process_boundary_whole(
    bounded: Settings, canary: Canary, untouched: Canary, pools: Callable[..., ExtractorPool]
) -> None:
    pool = pools(bounded, workers=1)
    with pytest.raises(errors.LinkForbidden) as caught:
        await pool.resolve(canary.url())
    assert caught.value.context["host"] == "127.0.0.3"


class Gate:
    """Pages that answer only once ``expected`` requests are in, each redirecting to a fixture
    page: extractions that ran one after another would never fill it. Records each request's
    arrival and answer times."""

    def __init__(self, expected: int, targets: dict[str, str]) -> None:
        self.expected, self.targets = expected, targets
        self.full = asyncio.Event()
        self.spans: list[tuple[float, float]] = []

    async def page(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        arrived, mine = loop.time(), len(self.spans)
        self.spans.append((arrived, arrived))
        if len(self.spans) >= self.expected:
            self.full.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.full.wait(), 60)  # a guard: a serial pool fails below
        self.spans[mine] = (arrived, loop.time())
        raise web.HTTPFound(self.targets[request.match_info["name"]])


async def test_extractions_run_side_by_side(
    bounded: Settings, site: FixtureSite, pools: Callable[..., ExtractorPool]
) -> None:
    names = ("video", "og", "jsonld", "audio")
    gate = Gate(len(names), {name: site.pages[name] for name in names})
    app = web.Application()
    app.router.add_get("/gate/{name}", gate.page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.2", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        pool = pools(bounded, workers=4)
        pages = [f"http://127.0.0.2:{port}/gate/{name}" for name in names]
        infos = await asyncio.gather(*(pool.resolve(page) for page in pages))
    finally:
        await runner.cleanup()
    assert len({info.webpage_url for info in infos}) == 4
    assert gate.full.is_set(), "the four extractions never were in flight at once"
    assert max(start for start, _ in gate.spans) < min(end for _, end in gate.spans)


PLANTED = ("limits", "yt_dlp", "mediadl", "multiprocessing")
"""Names the server, the forkserver or an extraction child import: planted in the folder the
server starts from, each writes a mark when it is imported."""


def test_the_folder_the_server_starts_from_is_never_imported(
    tmp_path: Path, site: FixtureSite
) -> None:
    folder, marks = tmp_path / "here", tmp_path / "marks"
    folder.mkdir()
    marks.mkdir()
    for name in PLANTED:
        mark = marks / name
        code = f"import os\nopen({str(mark)!r} + '-' + str(os.getpid()), 'w').close()\n"
        (folder / f"{name}.py").write_text(code)
    installed = Path(sys.executable).with_name("mediadl")  # the command as it is installed
    assert installed.exists()
    with serving(tmp_path, program=[str(installed)], cwd=folder) as server:
        for page in ("video", "hls", "dash"):
            body = {"url": site.pages[page]}
            r = httpx.post(f"{server.base}/api/v1/download", json=body, timeout=60)
            assert r.status_code == 200, r.text
            r = httpx.post(
                f"{server.base}/", json=body, headers={"Accept": "application/json"}, timeout=60
            )
            assert r.status_code == 200, r.text
        (forkserver,) = _children(server.proc.pid, "multiprocessing.forkserver")
        assert Path(f"/proc/{forkserver}/cwd").readlink() == Path("/")
    assert sorted(p.name for p in marks.iterdir()) == []


def _children(parent: int, command: str) -> list[int]:
    """The processes ``parent`` started whose command line holds ``command``."""
    found = []
    for proc in (p for p in Path("/proc").iterdir() if p.name.isdigit()):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and command in cmdline:
            found.append(int(proc.name))
    return found


async def test_a_child_starts_with_ffmpegs_version_known(bounded: Settings) -> None:
    """Asked once by the forkserver: the child starts no ffmpeg to learn it."""
    from support.probe_extractor import ProbeIE

    pool = ExtractorPool(bounded, [ProbeIE], workers=1)
    info = await pool.resolve("https://probe.invalid/one")
    await pool.close()
    state = json.loads(info.title)
    assert state["ffmpeg_version_kept"]
    assert state["pid"] != os.getpid()
    assert not [p for p in multiprocessing.active_children() if p.name == "mediadl-extract"]
