"""resolve → plan → fetch → mux against the fixture site, outputs probed with PyAV."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl.engine import Engine
from mediadl.engine.probe import probe
from mediadl.models import Choice
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media

DURATION = 60.0
TOLERANCE = 0.5

CASES = [
    # page, choice, container, video codec, height, audio codec
    ("video", Choice(), "mp4", "h264", 360, "aac"),
    ("og", Choice(), "mp4", "h264", 360, "aac"),
    ("jsonld", Choice(), "mp4", "h264", 360, "aac"),
    ("hls", Choice(), "mp4", "h264", 1080, "aac"),
    ("hls", Choice(quality=720), "mp4", "h264", 720, "aac"),
    ("hls", Choice(quality=480), "mp4", "h264", 360, "aac"),
    ("hls", Choice(quality=144), "mp4", "h264", 360, "aac"),
    ("hls", Choice(quality=720, container="mkv"), "matroska", "h264", 720, "aac"),
    ("hls", Choice(quality=720, mute=True), "mp4", "h264", 720, None),
    ("hls_fmp4", Choice(quality=720), "mp4", "h264", 720, "aac"),
    ("dash", Choice(), "mp4", "h264", 720, "aac"),
    ("dash", Choice(quality=360), "mp4", "h264", 360, "aac"),
    ("dash", Choice(quality=360, container="webm"), "webm", "vp9", 360, "opus"),
    ("hls", Choice(audio="mp3"), "mp3", None, None, "mp3"),
    ("hls", Choice(audio="m4a"), "mp4", None, None, "aac"),
    ("dash", Choice(audio="opus"), "ogg", None, None, "opus"),
    ("video", Choice(audio="best"), "mp4", None, None, "aac"),
    ("audio", Choice(audio="best"), "mp4", None, None, "aac"),
    ("audio", Choice(audio="mp3"), "mp3", None, None, "mp3"),
    ("mp3", Choice(audio="best"), "mp3", None, None, "mp3"),
    ("mp3", Choice(audio="opus"), "ogg", None, None, "opus"),
]


def _id(case: tuple[object, ...]) -> str:
    page, choice = case[0], case[1]
    assert isinstance(choice, Choice)
    bits = [str(page), str(choice.audio or choice.quality), choice.container]
    return "-".join(bits + (["mute"] if choice.mute else []))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_media_kind_and_choice(
    case: tuple[str, Choice, str, str | None, int | None, str | None],
    site: FixtureSite,
    engine: Engine,
    tmp_path: Path,
) -> None:
    page, choice, container, vcodec, height, acodec = case
    info = engine.resolve(site.pages[page])
    path = engine.download(engine.plan(info, choice), tmp_path)

    assert_media(
        path, container=container, vcodec=vcodec, height=height, acodec=acodec, duration=DURATION
    )
    assert list(tmp_path.iterdir()) == [path], "only the finished file is left"


def test_title_artist_and_cover_are_written(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.pages["video"])
    path = engine.download(engine.plan(info, Choice(quality=360)), tmp_path)
    result = probe(path)
    assert result.tags.get("title") == info.title
    assert any(s.attached_pic for s in result.streams), "the thumbnail is the cover"
    mp3 = engine.download(engine.plan(info, Choice(audio="mp3")), tmp_path)
    assert probe(mp3).tags.get("title") == info.title


def test_progressive_without_metadata_is_the_source_byte_for_byte(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.pages["video"])
    path = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()


def test_unicode_title_survives_and_stays_inside_the_folder(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    info = engine.resolve(site.pages["unicode"])
    path = engine.download(engine.plan(info, Choice()), out)
    assert path.parent == out
    assert list(out.iterdir()) == [path]
    for word in ("Çılgın", "Şarkı", "Безумная", "疯狂的歌", "🎵"):
        assert word in path.name
    assert "\u202e" not in path.name and "/" not in path.name
    assert probe(path).video is not None


@pytest.mark.parametrize(
    ("page", "count", "durations"),
    [
        ("feed", 3, [6, 8, 10]),
        ("post", 2, [6, 8]),
    ],
)
def test_playlists_and_multi_item_posts(
    page: str, count: int, durations: list[int], site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.pages[page])
    assert info.is_playlist and len(info.entries) == count
    got = []
    for entry in info.entries:
        item = engine.resolve_entry(entry)
        path = engine.download(engine.plan(item, Choice()), tmp_path)
        got.append(round(probe(path).duration or 0))
    assert sorted(got) == durations
    assert len(list(tmp_path.iterdir())) == count


def test_same_name_twice_never_overwrites(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.pages["mp3"])
    plan = engine.plan(info, Choice(audio="best", metadata=False))
    first = engine.download(plan, tmp_path)
    second = engine.download(plan, tmp_path)
    assert first != second and first.exists() and second.exists()
    assert second.name.endswith(" (2).mp3")
