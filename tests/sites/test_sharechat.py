"""ShareChat and Moj: URL shapes, and the whole pipeline against the replica."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl import errors
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites.sharechat import ShareChatIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.sharechat import AUTHOR, CDN, CDN_PATH, TITLE
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_error, assert_url_table, replica_engine

SHOULD_MATCH = [
    "https://sharechat.com/video/Q0aD6mE4",
    "https://sharechat.com/video/nZaw4XM",
    "https://sharechat.com/video/XDPQKxb?referrer=url",
    "https://www.sharechat.com/video/pDExqga/",
    "http://sharechat.com/post/AbC123",
    "https://mojapp.in/@officialrobin13/video/2791694826?referrer=TNuztD6-fgUv4B",
]
SHOULD_NOT_MATCH = [
    "https://sharechat.com.evil.example/video/nZaw4XM",
    "https://evilsharechat.com/video/nZaw4XM",
    "https://sharechat.com/profile/someone",
    "https://sharechat.com/video/",
    "https://sharechat.com/video/nZaw4XM/comments",
    "https://mojapp.in/@someone",
    "https://cdn-cf.sharechat.com/x/contents/sc_1/compressed/a.mp4",
]


def test_urls() -> None:
    assert_url_table(ShareChatIE, SHOULD_MATCH, SHOULD_NOT_MATCH)


def test_the_pointed_class_takes_only_the_replica(replicas: ReplicaSite) -> None:
    pointed = ShareChatIE.pointed_at(replicas.base_url)
    assert pointed.suitable(replicas.url("sharechat.com", "/video/nZaw4XM"))
    assert not pointed.suitable("https://sharechat.com/video/nZaw4XM")


@pytest.mark.parametrize(
    ("host", "path"),
    [("sharechat.com", "/video/nZaw4XM?referrer=url"), ("mojapp.in", "/@raju/video/2791694826")],
)
def test_video_post_resolves_and_downloads_byte_for_byte(
    host: str,
    path: str,
    settings: Settings,
    replicas: ReplicaSite,
    site: FixtureSite,
    tmp_path: Path,
) -> None:
    engine = replica_engine(settings, replicas, ShareChatIE)
    info = engine.resolve(replicas.url(host, path))
    assert (info.title, info.uploader, info.duration) == (TITLE, AUTHOR, 60)
    assert info.thumbnail and info.thumbnail.endswith("/thumb.jpg")
    assert info.raw.get("upload_date") == "20241005"
    assert [(f.url.split("?")[0], f.width, f.height) for f in info.formats] == [
        (replicas.url(CDN, CDN_PATH), 640, 360)
    ]

    path_out = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path_out.read_bytes() == site.media["progressive"].read_bytes()
    cdn_hits = [r for r in replicas.requests if r.path.startswith(f"/{CDN}{CDN_PATH}")]
    assert cdn_hits and all(r.status in (200, 206) for r in cdn_hits)


@pytest.mark.parametrize("post", ["StateOnly", "OgOnly"])
def test_fallbacks_find_the_video(
    post: str, settings: Settings, replicas: ReplicaSite, tmp_path: Path
) -> None:
    engine = replica_engine(settings, replicas, ShareChatIE)
    info = engine.resolve(replicas.url("sharechat.com", f"/video/{post}"))
    assert info.title == TITLE
    assert len(info.formats) == 1
    assert info.formats[0].url.startswith(replicas.url(CDN, CDN_PATH))
    path = engine.download(engine.plan(info, Choice()), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/post/PicPost", errors.ContentNoMedia, "picture"),
        ("/video/Broken1", errors.ContentInvalid, "contentUrl"),
        ("/video/Gone404", errors.ContentUnavailable, ""),
    ],
)
def test_failure_shapes_have_their_codes(
    path: str,
    error: type[errors.MediadlError],
    words: str,
    settings: Settings,
    replicas: ReplicaSite,
) -> None:
    engine = replica_engine(settings, replicas, ShareChatIE)
    failure = assert_error(engine, replicas.url("sharechat.com", path), error.code)
    assert words in failure.message
