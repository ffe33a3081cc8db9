"""Kuaishou: URL shapes, the did cookie gate, short links and failure shapes, through the whole
pipeline against the replica."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl import errors
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites.kuaishou import KuaishouIE, KuaishouShortIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.kuaishou import AUTHOR, CAPTION, CDN, MP4_PATH, PHOTO_ID
from mediadl_fixtures.server import FixtureSite
from support.sites import assert_url_table, replica_engine

VIDEO_SHOULD_MATCH = [
    "https://www.kuaishou.com/short-video/3x43cyvcyph57i4",
    "https://www.kuaishou.com/short-video/3x25msbsnncn8cs?authorId=3xabc&streamSource=find",
    "https://kuaishou.com/short-video/3x25msbsnncn8cs/",
]
VIDEO_SHOULD_NOT_MATCH = [
    "https://www.kuaishou.com.evil.example/short-video/3x43cyvcyph57i4",
    "https://notkuaishou.com/short-video/3x43cyvcyph57i4",
    "https://www.kuaishou.com/profile/3xabc",
    "https://www.kuaishou.com/f/X3t3Ee6o1L7gqHe",
    "https://v.kuaishou.com/dycMWg",
]
SHORT_SHOULD_MATCH = [
    "https://v.kuaishou.com/dycMWg",
    "https://www.kuaishou.com/f/X3t3Ee6o1L7gqHe",
]
SHORT_SHOULD_NOT_MATCH = [
    "https://v.kuaishou.com.evil.example/dycMWg",
    "https://www.kuaishou.com/dycMWg",
    "https://www.kuaishou.com/short-video/3x43cyvcyph57i4",
    "https://v.kuaishou.com/a/b",
]


def test_urls() -> None:
    assert_url_table(KuaishouIE, VIDEO_SHOULD_MATCH, VIDEO_SHOULD_NOT_MATCH)
    assert_url_table(KuaishouShortIE, SHORT_SHOULD_MATCH, SHORT_SHOULD_NOT_MATCH)


def test_page_is_asked_again_with_the_did_cookie_and_downloads(
    settings: Settings, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    engine = replica_engine(settings, replicas, KuaishouIE)
    info = engine.resolve(replicas.url("www.kuaishou.com", f"/short-video/{PHOTO_ID}"))
    assert (info.id, info.title, info.uploader, info.duration) == (PHOTO_ID, CAPTION, AUTHOR, 60)
    assert info.thumbnail and info.thumbnail.endswith(".jpg")
    assert info.raw.get("upload_date") == "20260615"
    assert [f.url for f in info.formats] == [replicas.url(CDN, MP4_PATH)]
    pages = [r for r in replicas.requests if r.path.startswith("/www.kuaishou.com/")]
    assert ["did=" in r.headers.get("Cookie", "") for r in pages] == [False, True]

    path = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()


@pytest.mark.parametrize(
    ("host", "code"), [("v.kuaishou.com", "dycMWg"), ("www.kuaishou.com", "X3t3Ee6o1L7gqHe")]
)
def test_short_links_are_followed_keeping_their_cookie(
    host: str, code: str, settings: Settings, replicas: ReplicaSite
) -> None:
    engine = replica_engine(settings, replicas, KuaishouIE, KuaishouShortIE)
    prefix = "/f" if host.startswith("www.") else ""
    info = engine.resolve(replicas.url(host, f"{prefix}/{code}"))
    assert (info.id, info.title, info.uploader) == (PHOTO_ID, CAPTION, AUTHOR)
    hops = [
        (r.path.split("?")[0], r.status, "did=" in r.headers.get("Cookie", ""))
        for r in replicas.requests
    ]
    assert hops[:2] == [
        (f"/{host}{prefix}/{code}", 302, False),
        (f"/www.kuaishou.com/short-video/{PHOTO_ID}", 200, True),
    ]
    assert len([h for h in hops if h[0].startswith("/www.kuaishou.com/short-video/")]) == 1


@pytest.mark.parametrize(
    ("photo_id", "error", "words"),
    [
        ("3xatlas0000001", errors.ContentNoMedia, "pictures"),
        ("3xbroken000001", errors.ContentInvalid, "photoUrl"),
        ("3xcaptcha00001", errors.FetchForbidden, "anti-bot"),
        ("3xgone00000001", errors.ContentUnavailable, "removed"),
    ],
)
def test_failure_shapes_have_their_codes(
    photo_id: str,
    error: type[errors.MediadlError],
    words: str,
    settings: Settings,
    replicas: ReplicaSite,
) -> None:
    engine = replica_engine(settings, replicas, KuaishouIE)
    with pytest.raises(errors.MediadlError) as caught:
        engine.resolve(replicas.url("www.kuaishou.com", f"/short-video/{photo_id}"))
    assert caught.value.code == error.code
    assert words in caught.value.message
