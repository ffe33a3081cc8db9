"""Mashable: URL shapes, and its three page generations through the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine.ytdl import new_ydl
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites.mashable import MashableIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.mashable import CDN, MP4_PATH, TITLE, YOUTUBE
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_url_table, replica_engine

SHOULD_MATCH = [
    "https://mashable.com/video/peppa-pig-mandarin",
    "https://mashable.com/video/why-life-on-venus-is-better-than-mars",
    "https://mashable.com/video/covid-vaccine-pfizer-moderna-explainer/",
    "https://www.mashable.com/video/who-took-the-first-selfie-ever?utm_source=x",
]
SHOULD_NOT_MATCH = [
    "https://mashable.com.evil.example/video/peppa-pig-mandarin",
    "https://notmashable.com/video/peppa-pig-mandarin",
    "https://mashable.com/article/peppa-pig-mandarin",
    "https://mashable.com/video/",
    "https://mashable.com/video/peppa-pig-mandarin/comments",
    "https://vdist.aws.mashable.com/cms/2026/8/3c2e1f7a/mp4/360.mp4",
]


def test_urls() -> None:
    assert_url_table(MashableIE, SHOULD_MATCH, SHOULD_NOT_MATCH)


def test_json_ld_and_data_give_the_hls_ladder_and_the_mp4(
    settings: Settings, replicas: ReplicaSite, tmp_path: Path
) -> None:
    engine = replica_engine(settings, replicas, MashableIE)
    info = engine.resolve(replicas.url("mashable.com", "/video/peppa-pig-mandarin/"))
    assert (info.title, info.uploader, info.duration) == (TITLE, "Mashable", 60)
    assert info.thumbnail == replicas.url(CDN, "/cms/2026/8/3c2e1f7a/thumbnail.jpg")
    assert info.raw.get("upload_date") == "20260814"
    heights = sorted(f.height for f in info.formats if f.height)
    assert heights == [360, 360, 720, 1080]
    assert replicas.url(CDN, MP4_PATH) in [f.url for f in info.formats]

    path = engine.download(engine.plan(info, Choice()), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=1080, acodec="aac", duration=60)


def test_2022_data_object_alone(settings: Settings, replicas: ReplicaSite, tmp_path: Path) -> None:
    engine = replica_engine(settings, replicas, MashableIE)
    info = engine.resolve(
        replicas.url("mashable.com", "/video/why-life-on-venus-is-better-than-mars")
    )
    assert (info.title, info.duration) == (TITLE, 60)
    path = engine.download(engine.plan(info, Choice(quality=720)), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=60)


def test_older_player_metadata_alone_is_the_mp4_byte_for_byte(
    settings: Settings, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    engine = replica_engine(settings, replicas, MashableIE)
    info = engine.resolve(replicas.url("mashable.com", "/video/who-took-the-first-selfie-ever"))
    assert info.title == TITLE
    assert [(f.url, f.height) for f in info.formats] == [(replicas.url(CDN, MP4_PATH), 360)]
    path = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()


def test_youtube_embed_goes_to_youtube(settings: Settings, replicas: ReplicaSite) -> None:
    url = replicas.url("mashable.com", "/video/robot-boxing-embed")
    with new_ydl(settings, [MashableIE.pointed_at(replicas.base_url)]) as ydl:
        result = ydl.extract_info(url, download=False, process=False)
    assert (result["_type"], result["url"], result["ie_key"]) == ("url", YOUTUBE, "Youtube")


@pytest.mark.parametrize(
    ("slug", "error", "words"),
    [
        ("no-player-here", errors.ContentInvalid, "contentUrl"),
        ("taken-down", errors.ContentUnavailable, ""),
    ],
)
def test_failure_shapes_have_their_codes(
    slug: str,
    error: type[errors.MediadlError],
    words: str,
    settings: Settings,
    replicas: ReplicaSite,
) -> None:
    engine = replica_engine(settings, replicas, MashableIE)
    with pytest.raises(errors.MediadlError) as caught:
        engine.resolve(replicas.url("mashable.com", f"/video/{slug}"))
    assert caught.value.code == error.code
    assert words in caught.value.message
