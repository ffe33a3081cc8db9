"""Akıllı TV: ``<source data-quality>`` tags with protocol-relative and malformed links."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl.engine import Engine
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites import extractors
from mediadl.sites.akillitv import AkilliTvIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.akillitv import TITLE
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_error, pointed_engine, url_table

URLS = url_table(
    AkilliTvIE,
    [
        "https://www.akilli.tv/video/kukuli-1-bolum",
        "http://www.akilli.tv/video/12345/",
        "https://akilli.tv/Videolar/izle.aspx?id=12",
    ],
    [
        "https://www.akilli.tv/",
        "https://www.akilli.tv",
        "http://www.akilli.tv/search.aspx?q=ford+focus",
        "https://www.akilli.tv.evil.example/video/x",
        "https://akilli.tvx/video/x",
        "https://notakilli.tv/video/x",
    ],
)


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_url_matching(url: str, expected: bool) -> None:
    assert AkilliTvIE.suitable(url) is expected


def test_the_faces_hand_akilli_tv_to_the_engine() -> None:
    assert AkilliTvIE in extractors()


@pytest.fixture
def akillitv(settings: Settings, replicas: ReplicaSite) -> Engine:
    return pointed_engine(settings, AkilliTvIE, replicas)


def test_every_quality_from_protocol_relative_and_malformed_links(
    akillitv: Engine, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    info = akillitv.resolve(replicas.url("www.akilli.tv", "/video/kukuli-1-bolum"))
    assert (info.id, info.title) == ("kukuli-1-bolum", TITLE)
    assert info.thumbnail == replicas.url("video.akilli.tv", "/img/kukuli.jpg")
    assert sorted(f.height for f in info.formats) == [240, 360]

    best = akillitv.download(akillitv.plan(info, Choice(metadata=False)), tmp_path / "best")
    assert best.read_bytes() == site.media["progressive"].read_bytes()
    low = akillitv.download(akillitv.plan(info, Choice(quality=240)), tmp_path / "low")
    assert_media(low, container="mp4", vcodec="h264", height=240, acodec="aac", duration=6)


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/video/silinmis", "content.unavailable", "deleted"),
        ("/video/park", "content.invalid", "data-quality"),
    ],
    ids=["removed", "page-without-player"],
)
def test_failures_say_what_happened(
    path: str, code: str, words: str, akillitv: Engine, replicas: ReplicaSite
) -> None:
    error = assert_error(akillitv, replicas.url("www.akilli.tv", path), code)
    assert words in error.message
