"""Which parts are probed before the mux: none when the site's claims decide every stream, the
unsure ones otherwise, and all of them when a run on claims fails (a site that named the wrong
codec). The probe process starts during the fetch only when a part will be probed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

import mediadl.engine.download as download_module
import mediadl.engine.mux as mux_module
from mediadl.engine import Engine
from mediadl.engine.probe import MediaProbe, ProbeProcess
from mediadl.models import Choice, StreamPlan
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media

DURATION = 60.0


@dataclass
class Probes:
    """What the downloads of a test probed (the real probes run; this only notes them)."""

    calls: list[list[str]] = field(default_factory=list)
    processes: int = 0


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Probes:
    noted = Probes()
    real_probe = mux_module.probe_apart

    def probe_apart(paths: Sequence[Path], process: ProbeProcess | None = None) -> list[MediaProbe]:
        noted.calls.append([p.name for p in paths])
        return real_probe(paths, process)

    class Counted(ProbeProcess):
        def __init__(self) -> None:
            noted.processes += 1
            super().__init__()

    monkeypatch.setattr(mux_module, "probe_apart", probe_apart)
    monkeypatch.setattr(download_module, "ProbeProcess", Counted)
    return noted


def test_dash_with_named_codecs_is_muxed_unprobed(
    site: FixtureSite, engine: Engine, tmp_path: Path, probes: Probes
) -> None:
    plan = engine.plan(engine.resolve(site.pages["dash"]), Choice(quality=360))
    path = engine.download(plan, tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=DURATION)
    assert probes.calls == []
    assert probes.processes == 0


def test_hls_audio_rendition_takes_its_codec_from_the_master_and_is_not_probed(
    site: FixtureSite, engine: Engine, tmp_path: Path, probes: Probes
) -> None:
    """yt-dlp reports the rendition's codec as unknown; the master's CODECS on the chosen
    variant (``avc1…,mp4a.40.2``, ``AUDIO="aud"``) names it, so nothing is probed."""
    plan = engine.plan(engine.resolve(site.pages["hls"]), Choice(quality=720))
    assert plan.audio is not None and plan.audio.codec == "unknown"
    path = engine.download(plan, tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=DURATION)
    assert probes.calls == []
    assert probes.processes == 0


def test_hls_audio_is_probed_when_the_master_cant_be_read(
    site: FixtureSite, engine: Engine, tmp_path: Path, probes: Probes
) -> None:
    """The master is gone by the time of the download (404): the rendition's codec stays
    unknown and its part is probed, as before."""
    plan = engine.plan(engine.resolve(site.pages["hls"]), Choice(quality=720))
    assert plan.audio is not None and plan.video is not None
    gone = site.url("/hls/master.m3u8", missing="master.m3u8")
    video, audio = (replace(f, raw={**f.raw, "manifest_url": gone}) for f in plan.formats)
    plan = replace(
        plan,
        formats=(video, audio),
        video=replace(plan.video, source=video),
        audio=replace(plan.audio, source=audio),
    )
    path = engine.download(plan, tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=DURATION)
    assert probes.calls == [["part1.mp4"]]
    assert probes.processes == 1


@pytest.mark.parametrize(
    ("choice", "container", "vcodec", "height", "acodec", "parts"),
    [
        (Choice(quality=360, container="mkv"), "matroska", "h264", 360, "aac", 2),
        (Choice(audio="opus"), "ogg", None, None, "opus", 1),
    ],
    ids=["matroska", "audio-only"],
)
def test_containers_that_take_any_codec_have_every_part_probed(
    choice: Choice,
    container: str,
    vcodec: str | None,
    height: int | None,
    acodec: str,
    parts: int,
    site: FixtureSite,
    engine: Engine,
    tmp_path: Path,
    probes: Probes,
) -> None:
    plan = engine.plan(engine.resolve(site.pages["dash"]), choice)
    path = engine.download(plan, tmp_path)
    assert_media(
        path, container=container, vcodec=vcodec, height=height, acodec=acodec, duration=DURATION
    )
    assert [len(call) for call in probes.calls] == [parts]
    assert probes.processes == 1


def test_a_wrongly_named_codec_is_probed_and_transcoded(
    site: FixtureSite, engine: Engine, tmp_path: Path, probes: Probes
) -> None:
    """The site says Opus but sends AAC: WebM can't hold AAC, so the run on claims fails, every
    part is probed, and the audio is transcoded to Opus. (The fixture's video is H.264, planned
    as a transcode to VP9: its part is probed before the first run.)"""
    info = engine.resolve(site.pages["dash"])
    plan = engine.plan(info, Choice(quality=360, container="webm"))
    assert plan.audio is not None
    aac = next(f for f in info.formats if f.acodec and f.acodec.startswith("mp4a"))
    liar = replace(aac, acodec="opus")
    formats = tuple(liar if f is plan.audio.source else f for f in plan.formats)
    assert [f.ext for f in formats] == ["mp4", "m4a"]
    plan = replace(plan, formats=formats, audio=StreamPlan(liar, "copy", "opus"))

    path = engine.download(plan, tmp_path)

    assert_media(path, container="webm", vcodec="vp9", height=360, acodec="opus", duration=DURATION)
    assert probes.calls == [["part0.mp4"], ["part0.mp4", "part1.m4a"]]
    assert probes.processes == 1, "one process started ahead, for the video part"


def test_a_part_that_isnt_media_still_fails_as_unreadable(
    site: FixtureSite, engine: Engine, tmp_path: Path, probes: Probes
) -> None:
    """Claims that decide the run, on a part that is no media at all: ffmpeg fails, the probe
    then says why (the same error as when every part was probed first)."""
    from mediadl import errors

    info = engine.resolve(site.pages["dash"])
    plan = engine.plan(info, Choice(quality=360))
    assert plan.audio is not None
    page = replace(plan.audio.source, url=site.pages["dash"], protocol="http", raw={})
    formats = tuple(page if f is plan.audio.source else f for f in plan.formats)
    plan = replace(plan, formats=formats, audio=replace(plan.audio, source=page))

    with pytest.raises(errors.ProcessingFailed) as caught:
        engine.download(plan, tmp_path)
    assert caught.value.message == "The downloaded file couldn't be read as media."
    assert len(probes.calls) == 1
    assert list(tmp_path.iterdir()) == []
