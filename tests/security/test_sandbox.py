"""Extraction in killable child processes: the server's bound on time and memory."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from mediadl import errors
from mediadl.engine.sandbox import ExtractorPool
from mediadl.settings import Settings
from mediadl_fixtures.hostile import Canary, HostileSite
from mediadl_fixtures.server import FixtureSite

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


async def test_a_page_resolves_in_a_child(bounded: Settings, site: FixtureSite) -> None:
    pool = ExtractorPool(bounded, workers=2)
    info = await pool.resolve(site.pages["video"])
    assert info.title.startswith("Fixture video")
    assert info.formats[0].url.startswith("http://127.0.0.2:")


async def test_a_slow_drip_is_killed_at_the_deadline(
    bounded: Settings, hostile: HostileSite
) -> None:
    pool = ExtractorPool(bounded, workers=2)
    started = time.monotonic()
    with pytest.raises(errors.FetchTimeout):
        await pool.resolve(hostile.url("/slow"))
    assert time.monotonic() - started < bounded.extract_timeout + 2
    assert not [p for p in multiprocessing.active_children() if p.name == "mediadl-extract"]


async def test_a_manifest_bomb_meets_the_memory_cap(
    bounded: Settings, hostile: HostileSite
) -> None:
    pool = ExtractorPool(bounded.model_copy(update={"extract_timeout": 60.0}), workers=1)
    with pytest.raises(errors.ContentTooLarge):
        await pool.resolve(hostile.url("/dash/bomb.mpd?seconds=2000"))


async def test_errors_cross_the_process_boundary_whole(
    bounded: Settings, canary: Canary, untouched: Canary
) -> None:
    pool = ExtractorPool(bounded, workers=1)
    with pytest.raises(errors.LinkForbidden) as caught:
        await pool.resolve(canary.url())
    assert caught.value.context["host"] == "127.0.0.3"


async def test_extractions_run_side_by_side(bounded: Settings, site: FixtureSite) -> None:
    import asyncio

    pool = ExtractorPool(bounded, workers=4)
    pages = [site.pages[name] for name in ("video", "og", "jsonld", "audio")]
    infos = await asyncio.gather(*(pool.resolve(page) for page in pages))
    assert len({info.webpage_url for info in infos}) == 4
