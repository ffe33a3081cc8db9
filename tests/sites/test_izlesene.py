"""İzlesene: ``window._videoObj`` as it was, and an honest error when a page lacks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl.engine import Engine
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites import extractors
from mediadl.sites.izlesene import IzleseneIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.izlesene import TITLE
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_error, pointed_engine, url_table

URLS = url_table(
    IzleseneIE,
    [
        "https://www.izlesene.com/video/sevincten-cildirtan-dogum-gunu-hediyesi/7599694",
        "https://www.izlesene.com/video/tarkan-dortmund-2006-konseri/17997",
        "http://www.izlesene.com/video/7599694",
        "https://m.izlesene.com/video/yayin-yok/7221390",
        "https://izlesene.com/embedplayer/7221390/?autoplay=1",
    ],
    [
        "https://www.izlesene.com/",
        "https://www.izlesene.com/kanal/doguser",
        "https://www.izlesene.com/video/no-id-here",
        "https://www.izlesene.com.evil.example/video/x/7599694",
        "https://notizlesene.com/video/x/7599694",
    ],
)


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_url_matching(url: str, expected: bool) -> None:
    assert IzleseneIE.suitable(url) is expected


def test_the_faces_hand_izlesene_to_the_engine() -> None:
    assert IzleseneIE in extractors()


@pytest.fixture
def izlesene(settings: Settings, replicas: ReplicaSite) -> Engine:
    return pointed_engine(settings, IzleseneIE, replicas)


def test_a_video_in_both_qualities_with_its_metadata(
    izlesene: Engine, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    url = replicas.url("www.izlesene.com", "/video/sevincten-cildirtan-dogum-gunu-hediyesi/7599694")
    info = izlesene.resolve(url)
    assert (info.id, info.title, info.uploader, info.duration) == (
        "7599694",
        TITLE,
        "doguser",
        60.0,
    )
    assert info.thumbnail and info.thumbnail.endswith("/7599694-sevincten.jpg")
    assert (info.raw["upload_date"], info.raw["view_count"], info.raw["age_limit"]) == (
        "20140930",
        1234,
        18,
    )
    assert sorted(f.height for f in info.formats) == [240, 360]

    best = izlesene.download(izlesene.plan(info, Choice(metadata=False)), tmp_path / "best")
    assert best.read_bytes() == site.media["progressive"].read_bytes()
    low = izlesene.download(izlesene.plan(info, Choice(quality=240)), tmp_path / "low")
    assert_media(low, container="mp4", vcodec="h264", height=240, acodec="aac", duration=6)


def test_an_embed_link_reads_the_video_page(izlesene: Engine, replicas: ReplicaSite) -> None:
    info = izlesene.resolve(replicas.url("m.izlesene.com", "/embedplayer/7599694"))
    assert (info.id, info.title) == ("7599694", TITLE)
    pages = [r.path for r in replicas.requests if "/video/" in r.path]
    assert pages == [
        "/www.izlesene.com/video/7599694",
        "/www.izlesene.com/video/sevincten-cildirtan-dogum-gunu-hediyesi/7599694",
    ]


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/video/yok/9999999", "content.unavailable", "deleted"),
        ("/video/tarkan-dortmund-2006-konseri/17997", "content.invalid", "no longer has"),
        ("/video/x/10519222", "content.invalid", "media.level[].source"),
    ],
    ids=["removed", "page-without-videoobj", "no-files"],
)
def test_failures_say_what_happened(
    path: str, code: str, words: str, izlesene: Engine, replicas: ReplicaSite
) -> None:
    error = assert_error(izlesene, replicas.url("www.izlesene.com", path), code)
    assert words in error.message
