"""With every private internal off (``disable_internals=*``), downloads still come out right:
through the server's extraction child and through the command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mediadl.engine import Engine, internals
from mediadl.engine.sandbox import ExtractorPool
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl
from support.media import assert_media

pytestmark = pytest.mark.slow


async def test_every_internal_off_through_the_extraction_child(
    site: FixtureSite, settings: Settings, tmp_path: Path
) -> None:
    off = settings.model_copy(update={"disable_internals": ["*"]})
    pool = ExtractorPool(off, workers=1)
    engine = Engine(off)
    info = await pool.resolve(site.pages["hls"])
    assert {f.height for f in info.formats if f.has_video} >= {360, 720, 1080}
    path = engine.download(engine.plan(info, Choice(quality=720)), tmp_path / "q")
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=60)
    raw = Choice(format_selector="bv*[height<=480]+ba/b", container="mkv")
    path = engine.download(engine.plan(info, raw), tmp_path / "raw")
    assert_media(path, container="matroska", vcodec="h264", height=360, acodec="aac", duration=60)
    assert {i.state for i in internals.report()} == {"disabled"}


def mediadl(*args: str, data_dir: Path, disable: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    env["MEDIADL_DATA_DIR"] = str(data_dir)
    if disable is not None:
        env["MEDIADL_DISABLE_INTERNALS"] = disable
    return run_mediadl(*args, env=env)


def test_every_internal_off_through_the_command_line(site: FixtureSite, tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    done = mediadl(
        "get", site.pages["dash"], "-f", "bv*[height<=360]+ba/b", "-o", str(out),
        data_dir=data, disable="*",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (path,) = out.iterdir()
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)
    assert not list(data.rglob("url-index-*.json")), "yt-dlp found the extractor itself"
    done = mediadl("info", site.pages["dash"], data_dir=data, disable=None)
    assert done.returncode == 0, done.stderr
    assert list(data.rglob("url-index-*.json")), "with the internals, the URL index is used"
