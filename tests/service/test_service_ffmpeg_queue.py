"""Tunnels that run ffmpeg take a place (``max_ffmpeg_tunnels``); past them they wait in line.

A real ``mediadl serve`` and real ffmpeg. The first tunnel holds the only place: its site stalls
after 30 kB of each video segment (a knob of the fixture site), so its ffmpeg runs and waits for
as long as the test wants; the test ends it by leaving, as a person who closes the tab.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.server import Server

pytestmark = pytest.mark.slow

ONE_PLACE = {
    "MEDIADL_MAX_FFMPEG_TUNNELS": "1",
    "MEDIADL_FFMPEG_QUEUE_WAIT": "600",
    "MEDIADL_READ_TIMEOUT": "3600",  # the held tunnel's site stalls: no timeout ends it for us
}
Check = Callable[[dict[str, Any]], bool]
STALL = {"stall": 30_000, "stallsecs": 3600}
"""Past the page, the manifest and the init segments: each video segment stops at 30 kB."""


async def links(client: httpx.AsyncClient, server: Server, page: str, **choice: Any) -> Any:
    r = await client.post(f"{server.base}/api/v1/download", json={"url": page, **choice})
    assert r.status_code == 200, r.text
    return r.json()


async def states(client: httpx.AsyncClient, events: str) -> AsyncIterator[dict[str, Any]]:
    """The tunnel's states as the server publishes them (subscribing again when one ends)."""
    while True:
        async with client.stream("GET", events) as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                if line.startswith("data:"):
                    state = json.loads(line[5:])
                    yield state
                    if state["stage"] in ("done", "error"):
                        return


async def until(client: httpx.AsyncClient, events: str, ok: Check) -> Any:
    async for state in states(client, events):
        if ok(state):
            return state
        assert state["stage"] not in ("done", "error"), state
    raise AssertionError("the states ended")


def stage(name: str, **fields: Any) -> Check:
    return lambda s: s["stage"] == name and all(s.get(k) == v for k, v in fields.items())


async def hold_the_place(
    client: httpx.AsyncClient, server: Server, site: FixtureSite
) -> asyncio.Task[httpx.Response]:
    """A remux whose site stalls, running (its ffmpeg started) until the task is cancelled."""
    held = await links(client, server, site.url("/pages/dash.html", **STALL), quality=720)
    assert held["mode"] == "remux"
    task = asyncio.create_task(client.get(held["tunnel"]))
    await until(client, held["events"], stage("mux"))
    return task


async def leave(task: asyncio.Task[httpx.Response]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def assert_whole_remux(response: httpx.Response, tmp_path: Path) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-mediadl-mode"] == "remux"
    out = tmp_path / "out.mp4"
    out.write_bytes(response.content)
    result = probe(out)
    assert result.duration == pytest.approx(60, abs=0.5)
    assert result.video is not None and result.audio is not None
    with av.open(str(out)) as container:  # every frame of both streams decodes, to the end
        times = [float(frame.time or 0.0) for frame in container.decode()]
    assert max(times) == pytest.approx(60, abs=0.5)


async def test_a_second_remux_waits_for_the_place_then_completes(
    launch: Callable[..., Server], site: FixtureSite, tmp_path: Path
) -> None:
    server = launch("one", **ONE_PLACE, MEDIADL_METRICS="true", MEDIADL_METRICS_OPEN="true")
    async with httpx.AsyncClient(timeout=120) as client:
        first = await hold_the_place(client, server, site)
        second = await links(client, server, site.pages["dash"], quality=360)
        pulling = asyncio.create_task(client.get(second["tunnel"]))
        await until(client, second["events"], stage("queued", position=1))
        assert not pulling.done()
        scraped = (await client.get(f"{server.base}/metrics")).text.splitlines()
        assert "mediadl_ffmpeg_tunnels_running 1.0" in scraped
        assert "mediadl_ffmpeg_tunnels_waiting 1.0" in scraped
        await leave(first)  # the first tunnel ends: its place goes to the second
        assert_whole_remux(await pulling, tmp_path)


async def test_passthrough_tunnels_do_not_wait_for_a_place(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    server = launch("pass", **ONE_PLACE)
    async with httpx.AsyncClient(timeout=120) as client:
        first = await hold_the_place(client, server, site)
        try:
            plain = await links(client, server, site.pages["video"])
            assert plain["mode"] == "passthrough"
            r = await client.get(plain["tunnel"])
            assert r.status_code == 200
            assert r.content == site.media["progressive"].read_bytes()
            assert not first.done(), "the remux still holds its place"
        finally:
            await leave(first)


async def test_a_client_that_leaves_the_line_frees_its_place_in_it(
    launch: Callable[..., Server], site: FixtureSite, tmp_path: Path
) -> None:
    server = launch("leave", **ONE_PLACE)
    async with httpx.AsyncClient(timeout=120) as client:
        first = await hold_the_place(client, server, site)
        second = await links(client, server, site.pages["dash"], quality=360)
        third = await links(client, server, site.pages["dash"], quality=360)
        waiting = asyncio.create_task(client.get(second["tunnel"]))
        await until(client, second["events"], stage("queued", position=1))
        pulling = asyncio.create_task(client.get(third["tunnel"]))
        await until(client, third["events"], stage("queued", position=2))
        await leave(waiting)  # the second leaves the line: the third is next
        await until(client, third["events"], stage("queued", position=1))
        assert (await client.get(f"{server.base}/healthz")).status_code == 200
        await leave(first)
        assert_whole_remux(await pulling, tmp_path)
        gone = await until(client, second["events"], stage("error"))
        assert gone["error"]["code"] == "cancelled"


async def test_past_the_wait_a_tunnel_is_told_the_server_is_busy(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    server = launch("busy", **(ONE_PLACE | {"MEDIADL_FFMPEG_QUEUE_WAIT": "0.5"}))
    async with httpx.AsyncClient(timeout=120) as client:
        first = await hold_the_place(client, server, site)
        try:
            second = await links(client, server, site.pages["dash"], quality=360)
            r = await client.get(second["tunnel"])
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "server.busy"
            assert int(r.headers["retry-after"]) > 0
            said = await until(client, second["events"], stage("error"))
            assert said["error"]["code"] == "server.busy"
            assert not first.done(), "the tunnel that has the place goes on"
        finally:
            await leave(first)


async def test_a_client_that_leaves_before_the_first_byte_gives_the_place_back(
    launch: Callable[..., Server], site: FixtureSite, tmp_path: Path
) -> None:
    """An mp3 whose site stalls before ffmpeg has a first byte to send: the client leaving then
    (the tunnel's handler is cancelled, no answer started) still gives the only place back, so
    the next remux gets it and nobody waits in line."""
    server = launch("early", **ONE_PLACE)
    async with httpx.AsyncClient(timeout=120) as client:
        page = site.url("/pages/audio.html", stall=2_000, stallsecs=3600)
        sound = await links(client, server, page, audio="mp3")
        assert sound["mode"] == "transcode"
        early = asyncio.create_task(client.get(sound["tunnel"]))
        await until(client, sound["events"], stage("mux"))
        await leave(early)
        await until(client, sound["events"], stage("error"))  # the server saw it leave
        after = await links(client, server, site.pages["dash"], quality=360)
        pulling = asyncio.create_task(client.get(after["tunnel"]))
        first = await until(
            client, after["events"], lambda s: s["stage"] in ("queued", "start", "done")
        )
        assert first["stage"] != "queued", "the place of the client that left was never freed"
        assert_whole_remux(await pulling, tmp_path)
