"""The mux while the segments arrive: ffmpeg reads each HLS or DASH part while it is fetched.

The fixture site holds the last segments back (``site.hold``) until the test lets them go; the
mux writes its output meanwhile, which the mux after the fetch never could. A run on a wrong
claim still ends in the right file, a cancel leaves nothing and no ffmpeg, and a segment that
can't be had fails with its own error.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

import mediadl.engine.mux as mux_module
import mediadl.engine.streammux as streammux_module
from mediadl import errors
from mediadl.engine import Engine
from mediadl.models import CancelToken, Choice, Plan, Progress, Stage, StreamPlan
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.procs import eventually, ffmpeg_children

DURATION = 60.0
LAST = {
    "hls": ["seg_029.ts"],  # the last segment of every HLS rendition
    "dash": ["chunk-stream0-00030.m4s", "chunk-stream2-00031.m4s"],  # 360p video, audio
}
QUALITY = {"hls": 720, "dash": 360}


@pytest.fixture
def patient(settings: Settings) -> Settings:
    """A held segment is waited for, not given up on: whatever the machine's load, the test
    decides when it comes."""
    return settings.model_copy(update={"read_timeout": 600.0})


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[Plan]:
    """The plans muxed while fetched (the real mux runs; this only notes it)."""
    noted: list[Plan] = []
    real = streammux_module.StreamedMux.start

    def start(self: streammux_module.StreamedMux) -> None:
        noted.append(self.plan)
        real(self)

    monkeypatch.setattr(streammux_module.StreamedMux, "start", start)
    return noted


def _muxing(folder: Path) -> Path | None:
    """ffmpeg's output in the download's work folder, once it holds bytes."""
    for path in folder.glob(".mediadl-*/muxing.*"):
        if path.stat().st_size > 0:
            return path
    return None


@pytest.mark.parametrize("page", ["hls", "dash"])
def test_ffmpeg_writes_the_file_before_the_last_segments_arrive(
    page: str, site: FixtureSite, patient: Settings, tmp_path: Path, streamed: list[Plan]
) -> None:
    engine = Engine(patient)
    plan = engine.plan(engine.resolve(site.pages[page]), Choice(quality=QUALITY[page]))
    gates = [site.hold(name) for name in LAST[page]]
    events: list[Progress] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(engine.download, plan, tmp_path, progress=events.append)
        try:
            writing = eventually(lambda: job.done() or _muxing(tmp_path), guard=300)
            answered = [record.path for record in site.stats.log]
        finally:
            for gate in gates:
                gate.set()
        path = job.result()

    assert isinstance(writing, Path), "ffmpeg wrote nothing while the last segments were held"
    assert not [p for p in answered if p.rsplit("/", 1)[-1] in LAST[page]]
    assert len(streamed) == 1
    assert_media(
        path,
        container="mp4",
        vcodec="h264",
        height=QUALITY[page],
        acodec="aac",
        duration=DURATION,
    )
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    stages = [e.stage for e in events]
    assert Stage.MUX in stages, "the mux is reported once the fetch is over"
    assert Stage.FETCH not in stages[stages.index(Stage.MUX) :]
    assert stages[-1] is Stage.DONE


def test_a_wrong_claim_read_while_fetched_is_probed_and_run_again(
    site: FixtureSite, engine: Engine, tmp_path: Path, streamed: list[Plan]
) -> None:
    """The site claims VP9 and Opus (what WebM carries) but sends H.264 and AAC: the run that
    reads the parts while they arrive fails, every part is probed once they are all there, and
    both streams are transcoded."""
    info = engine.resolve(site.pages["dash"])
    plan = engine.plan(info, Choice(quality=360, container="webm"))
    assert plan.video is not None and plan.audio is not None
    video = replace(plan.video.source, vcodec="vp9")
    audio = replace(plan.audio.source, acodec="opus")
    plan = replace(
        plan,
        formats=(video, audio),
        video=StreamPlan(video, "copy", "vp9"),
        audio=StreamPlan(audio, "copy", "opus"),
    )
    probed: list[list[str]] = []
    real_probe = mux_module.probe_apart

    def probe_apart(paths: list[Path], process: object = None) -> object:
        probed.append([p.name for p in paths])
        return real_probe(paths, None)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mux_module, "probe_apart", probe_apart)
        path = engine.download(plan, tmp_path)

    assert len(streamed) == 1
    assert probed == [["part0.mp4", "part1.m4a"]]
    assert_media(path, container="webm", vcodec="vp9", height=360, acodec="opus", duration=DURATION)


def test_cancel_while_ffmpeg_reads_leaves_no_file_and_no_ffmpeg(
    site: FixtureSite, patient: Settings, tmp_path: Path, streamed: list[Plan]
) -> None:
    engine = Engine(patient)
    plan = engine.plan(engine.resolve(site.pages["hls"]), Choice(quality=720))
    gate = site.hold("seg_029.ts")
    cancel = CancelToken()
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(engine.download, plan, tmp_path, cancel=cancel)
        try:
            writing = eventually(lambda: job.done() or _muxing(tmp_path), guard=300)
            assert isinstance(writing, Path)
            assert ffmpeg_children(os.getpid())
            cancel.cancel()
            with pytest.raises(errors.Cancelled):
                job.result()
        finally:
            gate.set()

    assert streamed
    assert list(tmp_path.iterdir()) == []
    assert eventually(lambda: not ffmpeg_children(os.getpid()))


@pytest.mark.parametrize("page", ["hls", "dash"])
def test_a_segment_that_cant_be_had_fails_with_its_error_and_leaves_nothing(
    page: str, site: FixtureSite, engine: Engine, tmp_path: Path, streamed: list[Plan]
) -> None:
    # part 11 of either: HLS counts its segments from 1, DASH from its init section
    missing = {"hls": "seg_010.ts", "dash": "chunk-stream0-00010.m4s"}[page]
    url = site.url(page, missing=missing)
    plan = engine.plan(engine.resolve(url), Choice(quality=QUALITY[page]))

    with pytest.raises(errors.FetchError) as caught:
        engine.download(plan, tmp_path)

    assert len(streamed) == 1
    assert caught.value.code == "fetch.failed"
    assert caught.value.context.get("status") == 404, caught.value.context
    assert "(part 11 of the stream, HTTP 404)" in caught.value.message
    assert list(tmp_path.iterdir()) == []
    assert eventually(lambda: not ffmpeg_children(os.getpid()))


def test_a_part_to_probe_first_is_muxed_after_the_fetch(
    site: FixtureSite, engine: Engine, tmp_path: Path, streamed: list[Plan]
) -> None:
    """Matroska takes any codec, so a claim can't be checked by its muxer: the parts are probed
    once they are all there, then muxed, as before."""
    plan = engine.plan(engine.resolve(site.pages["hls"]), Choice(quality=360, container="mkv"))
    path = engine.download(plan, tmp_path)
    assert streamed == []
    assert_media(
        path, container="matroska", vcodec="h264", height=360, acodec="aac", duration=DURATION
    )
