"""Febspot: a KVS page read by yt-dlp's KVS reader (every quality, the Referer its files want),
``og:video`` when that reader can't, and the failure shapes."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mediadl.engine import Engine, internals
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites import extractors
from mediadl.sites.febspot import FebspotIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.febspot import file_hash
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_error, fetch, pointed_engine, url_table

URLS = url_table(
    FebspotIE,
    [
        "https://www.febspot.com/video/3218504",
        "https://www.febspot.com/video/1234567",
        "https://febspot.com/video/3181098/",
        "https://www.febspot.com/video/3218504/some-title/",
        "http://www.febspot.com/video/138?utm=x",
    ],
    [
        "https://www.febspot.com/my/videos/",
        "https://www.febspot.com/video/",
        "https://www.febspot.com/video/abc",
        "https://www.febspot.com/get_file/18/8a64a914a0c995ab6fae978bcf3c24e8/1240000/1240735/1240735_720p.mp4",
        "https://www.febspot.com.evil.example/video/3218504",
        "https://notfebspot.com/video/3218504",
    ],
)

PAGE = "/video/3218504"


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_url_matching(url: str, expected: bool) -> None:
    assert FebspotIE.suitable(url) is expected


def test_the_faces_hand_febspot_to_the_engine() -> None:
    assert FebspotIE in extractors()


@pytest.fixture
def febspot(settings: Settings, replicas: ReplicaSite) -> Engine:
    return pointed_engine(settings, FebspotIE, replicas)


def test_a_video_in_both_qualities_with_the_referer_its_files_want(
    febspot: Engine, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    page = replicas.url("www.febspot.com", PAGE)
    info = febspot.resolve(page)
    assert (info.id, info.title, info.extractor) == ("3218504", "Sunset over the bay", "Febspot")
    assert info.thumbnail == replicas.url(
        "www.febspot.com", "/contents/videos_screenshots/3218504/preview.jpg"
    )
    assert sorted(f.height for f in info.formats) == [240, 360]

    best = febspot.download(febspot.plan(info, Choice(metadata=False)), tmp_path / "best")
    assert best.read_bytes() == site.media["progressive"].read_bytes()
    low = febspot.download(febspot.plan(info, Choice(quality=240)), tmp_path / "low")
    assert_media(low, container="mp4", vcodec="h264", height=240, acodec="aac", duration=6)

    files = [r for r in replicas.requests if "/get_file/" in r.path]
    assert files and all(r.headers.get("Referer") == page for r in files)
    assert all(r.status == 302 for r in files), "get_file hands over to the storage node"


@pytest.mark.parametrize(("referer", "status"), [(None, 403), (PAGE, 302)])
def test_the_files_refuse_a_request_without_the_page_as_referer(
    referer: str | None, status: int, replicas: ReplicaSite
) -> None:
    link = replicas.url(
        "www.febspot.com",
        f"/get_file/18/{file_hash('3218504', '360p')}/3218000/3218504/3218504_360p.mp4/",
    )
    headers = {"Referer": replicas.url("www.febspot.com", referer)} if referer else {}
    connection = http.client.HTTPConnection(urlsplit(link).netloc, timeout=5)
    try:
        connection.request("GET", urlsplit(link).path, headers=headers)
        assert connection.getresponse().status == status
    finally:
        connection.close()


def test_og_video_alone_is_read(
    febspot: Engine, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    """The page shape AIOVD read: no player, one og:video file."""
    path = fetch(febspot, replicas.url("www.febspot.com", "/video/1240735/old-upload/"), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)


def test_without_yt_dlp_kvs_reader_og_video_is_the_format(
    febspot: Engine, replicas: ReplicaSite, tmp_path: Path
) -> None:
    kvs = next(i for i in internals.report() if i.name.endswith("GenericIE._extract_kvs"))
    with internals.disabled(kvs.name):
        assert kvs.state == "disabled"
        info = febspot.resolve(replicas.url("www.febspot.com", PAGE))
    assert [f.height for f in info.formats] == [360]
    path = febspot.download(febspot.plan(info, Choice()), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)


def test_yt_dlp_generic_extractor_reads_the_page_too(
    settings: Settings, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    """The replica is a KVS page as yt-dlp knows them: its generic extractor reads it alone."""
    engine = Engine(settings)
    page = replicas.url("www.febspot.com", PAGE)
    info = engine.resolve(page)
    assert not info.is_playlist and info.extractor.lower() == "generic"
    assert info.title == "Sunset over the bay - Febspot"
    assert sorted(f.height for f in info.formats) == [240, 360]
    assert info.thumbnail and info.thumbnail.endswith("/3218504/preview.jpg")
    path = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()
    files = [r for r in replicas.requests if "/get_file/" in r.path]
    assert files and all(r.headers.get("Referer") == page and r.status == 302 for r in files)


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/video/9999999", "content.unavailable", "deleted"),
        ("/video/3000000", "content.invalid", "flashvars"),
    ],
    ids=["removed", "page-changed"],
)
def test_failures_say_what_happened(
    path: str, code: str, words: str, febspot: Engine, replicas: ReplicaSite
) -> None:
    error = assert_error(febspot, replicas.url("www.febspot.com", path), code)
    assert words in error.message
