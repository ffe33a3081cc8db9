"""Parts are probed in a process of their own: the same answers, PyAV's memory kept apart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine import Engine
from mediadl.engine.probe import probe, probe_apart
from mediadl.models import Choice
from mediadl_fixtures.server import FixtureSite

MERGE_AND_REPORT = """
import sys
from pathlib import Path
from mediadl.engine import Engine
from mediadl.models import Choice
from mediadl.settings import Settings

page, out = sys.argv[1], Path(sys.argv[2])
engine = Engine(Settings(allow_networks=["127.0.0.2/32"], data_dir=out / "data"))
plan = engine.plan(engine.resolve(page), Choice(quality=360))
assert plan.needs_ffmpeg and len(plan.formats) == 2
path = engine.download(plan, out)
print(path)
print("av loaded:", "av" in sys.modules)
"""


def test_a_merge_never_loads_pyav_into_the_downloading_process(
    site: FixtureSite, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MERGE_AND_REPORT, site.pages["dash"], str(tmp_path)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    saved, loaded = done.stdout.splitlines()
    assert loaded == "av loaded: False"
    merged = probe(Path(saved))
    assert merged.video is not None and merged.video.height == 360
    assert merged.audio is not None and merged.audio.codec == "aac"


def test_the_probes_apart_are_the_probes_here(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.pages["dash"])
    video = engine.download(engine.plan(info, Choice(quality=360, mute=True)), tmp_path / "v")
    audio = engine.download(engine.plan(info, Choice(audio="opus")), tmp_path / "a")
    assert probe_apart([video, audio]) == [probe(video), probe(audio)]


def test_a_file_that_isnt_media_is_a_processing_error(tmp_path: Path) -> None:
    media_like = tmp_path / "part0.mp4"
    media_like.write_bytes(b"<html>not media</html>" * 100)
    with pytest.raises(errors.ProcessingFailed) as caught:
        probe_apart([media_like])
    assert caught.value.message == "The downloaded file couldn't be read as media."
    assert caught.value.context.get("detail")
    with pytest.raises(errors.ProcessingFailed):
        probe_apart([tmp_path / "missing.mp4"])
