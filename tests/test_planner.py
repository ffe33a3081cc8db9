"""plan(info, choice): the decisions a person's choice leads to, before any byte moves."""

from __future__ import annotations

import pytest

from mediadl import errors
from mediadl.engine.planner import ladder_steps, pick_height, plan
from mediadl.engine.summary import choices
from mediadl.models import Choice, Format, MediaInfo


def fmt(
    fid: str,
    *,
    v: str | None = None,
    a: str | None = None,
    h: int | None = None,
    ext: str = "mp4",
    tbr: float = 1000,
    proto: str = "https",
    size: int | None = None,
) -> Format:
    return Format(
        id=fid,
        url=f"https://cdn.example/{fid}",
        protocol=proto,
        ext=ext,
        vcodec=v,
        acodec=a,
        height=h,
        width=h and h * 16 // 9,
        tbr=tbr,
        filesize=size,
    )


def media(*formats: Format, title: str = "A / B", duration: float = 60.0) -> MediaInfo:
    return MediaInfo(
        id="x1",
        title=title,
        webpage_url="https://site.example/v/x1",
        extractor="Example",
        uploader="Someone",
        duration=duration,
        formats=formats,
    )


ADAPTIVE = media(
    fmt("v360", v="avc1.4d401e", h=360, tbr=800, size=6_000_000),
    fmt("v720", v="avc1.64001f", h=720, tbr=2500, size=19_000_000),
    fmt("v1080", v="avc1.640028", h=1080, tbr=5000, size=38_000_000),
    fmt("v1080vp9", v="vp09.00.40.08", h=1080, tbr=4000, ext="webm"),
    fmt("aac", a="mp4a.40.2", tbr=128, ext="m4a", size=1_000_000),
    fmt("opus", a="opus", tbr=160, ext="webm"),
)


@pytest.mark.parametrize(
    ("heights", "wanted", "expected"),
    [
        ([1080, 720, 360], "best", 1080),
        ([1080, 720, 360], 720, 720),
        ([1080, 720, 360], 1440, 1080),
        ([1080, 720, 360], 480, 360),
        ([1080, 720, 360], 240, 360),  # nothing at or below: the nearest above
        ([], 720, None),
    ],
)
def test_ladder_nearest_not_above_else_nearest_above(heights, wanted, expected) -> None:
    assert pick_height(heights, wanted) == expected


def test_720_mp4_merges_h264_with_aac_by_copy() -> None:
    p = plan(ADAPTIVE, Choice(quality=720))
    assert [f.id for f in p.formats] == ["v720", "aac"]
    assert p.ext == "mp4"
    assert p.video and p.video.action == "copy"
    assert p.audio and p.audio.action == "copy"
    assert p.filename == "A _ B.mp4"
    assert p.estimated_size == 20_000_000


def test_webm_prefers_vp9_and_opus() -> None:
    p = plan(ADAPTIVE, Choice(container="webm"))
    assert [f.id for f in p.formats] == ["v1080vp9", "opus"]
    assert p.video and p.video.action == "copy" and p.audio and p.audio.action == "copy"


def test_webm_without_vp9_transcodes() -> None:
    p = plan(ADAPTIVE, Choice(container="webm", quality=360))
    assert p.video and p.video.action == "transcode" and p.video.codec == "libvpx-vp9"


def test_mute_keeps_only_video() -> None:
    p = plan(ADAPTIVE, Choice(quality=1080, mute=True))
    assert [f.id for f in p.formats] == ["v1080"] and p.audio is None


@pytest.mark.parametrize(
    ("audio", "ext", "action", "source"),
    [
        ("mp3", "mp3", "transcode", "opus"),  # no mp3 source: transcode the richest
        ("m4a", "m4a", "copy", "aac"),
        ("opus", "opus", "copy", "opus"),
        ("best", "opus", "copy", "opus"),
    ],
)
def test_audio_copies_when_the_source_allows(audio, ext, action, source) -> None:
    p = plan(ADAPTIVE, Choice(audio=audio))
    assert p.ext == ext and p.video is None
    assert p.audio is not None and p.audio.action == action and p.audio.source.id == source


def test_audio_from_a_muxed_only_site_takes_the_smallest_video() -> None:
    info = media(
        fmt("m720", v="avc1", a="mp4a", h=720, tbr=3000),
        fmt("m360", v="avc1", a="mp4a", h=360, tbr=900),
    )
    p = plan(info, Choice(audio="m4a"))
    assert [f.id for f in p.formats] == ["m360"]


def test_sound_only_link_refuses_video_choice() -> None:
    info = media(fmt("a", a="mp3", ext="mp3"))
    with pytest.raises(errors.FormatUnavailable):
        plan(info, Choice(quality=720))


def test_silent_video_refuses_audio_choice() -> None:
    info = media(fmt("v", v="avc1", h=720))
    with pytest.raises(errors.FormatUnavailable) as caught:
        plan(info, Choice(audio="mp3"))
    assert caught.value.code == "format.unavailable"


def test_raw_selector_uses_what_the_selector_returns() -> None:
    def select(info: MediaInfo, spec: str) -> list[Format]:
        assert spec == "bv*[height<=360]+ba"
        return [info.formats[0], info.formats[4]]

    p = plan(ADAPTIVE, Choice(format_selector="bv*[height<=360]+ba"), select=select)
    assert [f.id for f in p.formats] == ["v360", "aac"]


def test_name_template() -> None:
    p = plan(ADAPTIVE, Choice(quality=720, name_template="{uploader} - {title} ({height}p)"))
    assert p.filename == "Someone - A _ B (720p).mp4"


def test_progressive_without_metadata_needs_no_ffmpeg() -> None:
    info = media(fmt("p", v="avc1", a="mp4a", h=360, proto="https"))
    assert not plan(info, Choice(metadata=False)).needs_ffmpeg
    assert plan(info, Choice(metadata=True)).needs_ffmpeg
    hls = media(fmt("h", v="avc1", a="mp4a", h=360, proto="m3u8_native"))
    assert plan(hls, Choice(metadata=False)).needs_ffmpeg


def test_playlists_are_not_planned_whole() -> None:
    info = MediaInfo(id="pl", title="P", webpage_url="https://x/", extractor="X", is_playlist=True)
    with pytest.raises(errors.FormatUnavailable):
        plan(info, Choice())


def test_choices_list_distinct_ladder_steps_and_audio() -> None:
    assert ladder_steps(ADAPTIVE.formats) == [1080, 720, 360]
    c = choices(ADAPTIVE)
    assert [v.height for v in c.video] == [1080, 720, 360]
    assert c.video[1].size == 20_000_000
    assert [a.format for a in c.audio] == ["best", "mp3", "m4a", "opus"]
    assert c.mute and c.default_quality == 1080
