"""Kwai: URL shapes, its page layouts and short links through the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl import errors
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites.kwai import KwaiIE, KwaiShortIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.replicas.kwai import AUTHOR, CAPTION, CDN, MP4_PATH, VIDEO_ID
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_error, assert_url_table, replica_engine

VIDEO_SHOULD_MATCH = [
    "https://www.kwai.com/@someone/video/5221181437484916837",
    "https://www.kwai.com/@SHREKPAPORETOO/video/5199555880897549098?page_source=share&short_key=x",
    "https://www.kwai.com/video/5199555880897549098",
    "https://m.kwai.com/video/5199555880897549098/",
    "http://kwai.com/@a.b_c/video/1",
]
VIDEO_SHOULD_NOT_MATCH = [
    "https://www.kwai.com.evil.example/video/5199555880897549098",
    "https://evilkwai.com/video/5199555880897549098",
    "https://www.kwai.com/@someone",
    "https://www.kwai.com/video/abc",
    "https://www.kwai.com/video/5199555880897549098/comments",
    "https://k.kwai.com/p/Ab3dEf9",
]
SHORT_SHOULD_MATCH = [
    "https://k.kwai.com/p/Ab3dEf9",
    "https://s.kw.ai/p/zL3z89CB",
    "http://kw.ai/p/1mIGdN98",
]
SHORT_SHOULD_NOT_MATCH = [
    "https://s.kw.ai.evil.example/p/zL3z89CB",
    "https://k.kwai.com/u/@someone/Ab3dEf9",
    "https://www.kwai.com/p/zL3z89CB",
    "https://xkw.ai/p/zL3z89CB",
]


def test_urls() -> None:
    assert_url_table(KwaiIE, VIDEO_SHOULD_MATCH, VIDEO_SHOULD_NOT_MATCH)
    assert_url_table(KwaiShortIE, SHORT_SHOULD_MATCH, SHORT_SHOULD_NOT_MATCH)


def test_nuxt_page_resolves_and_downloads_byte_for_byte(
    settings: Settings, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    engine = replica_engine(settings, replicas, KwaiIE)
    url = replicas.url("www.kwai.com", f"/@SHREKPAPORETOO/video/{VIDEO_ID}?short_key=zL3z89CB")
    info = engine.resolve(url)
    assert (info.id, info.title, info.uploader, info.duration) == (VIDEO_ID, CAPTION, AUTHOR, 60)
    assert info.thumbnail and info.thumbnail.endswith(".jpg")
    assert [(f.url, f.height) for f in info.formats] == [(replicas.url(CDN, MP4_PATH), 360)]
    page_hits = [r.path for r in replicas.requests if r.path.startswith("/www.kwai.com/")]
    assert page_hits == [f"/www.kwai.com/@SHREKPAPORETOO/video/{VIDEO_ID}"], "share query dropped"

    path = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()


@pytest.mark.parametrize(
    ("video_id", "title", "uploader"),
    [
        ("5221181437484916837", CAPTION, AUTHOR),  # plain JSON state, read by key
        ("5200000000000000001", f"{CAPTION} | Kwai", None),  # bare <video>
    ],
)
def test_other_layouts_still_give_the_video(
    video_id: str,
    title: str,
    uploader: str | None,
    settings: Settings,
    replicas: ReplicaSite,
    tmp_path: Path,
) -> None:
    engine = replica_engine(settings, replicas, KwaiIE)
    info = engine.resolve(replicas.url("www.kwai.com", f"/video/{video_id}"))
    assert (info.title, info.uploader) == (title, uploader)
    assert info.thumbnail and info.thumbnail.endswith(".jpg")
    path = engine.download(engine.plan(info, Choice()), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)


@pytest.mark.parametrize(("host", "code"), [("k.kwai.com", "Ab3dEf9"), ("s.kw.ai", "zL3z89CB")])
def test_short_links_are_followed(
    host: str, code: str, settings: Settings, replicas: ReplicaSite, tmp_path: Path
) -> None:
    engine = replica_engine(settings, replicas, KwaiIE, KwaiShortIE)
    info = engine.resolve(replicas.url(host, f"/p/{code}"))
    assert (info.id, info.title, info.uploader) == (VIDEO_ID, CAPTION, AUTHOR)
    hops = [(r.path.split("?")[0], r.status) for r in replicas.requests]
    assert hops[:2] == [
        (f"/{host}/p/{code}", 302),
        (f"/www.kwai.com/@SHREKPAPORETOO/video/{VIDEO_ID}", 200),
    ]
    path = engine.download(engine.plan(info, Choice()), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/video/5200000000000000404", errors.ContentUnavailable, "removed"),
        ("/video/5200000000000000500", errors.ContentInvalid, "main_mv_urls"),
        ("/video/5200000000000000999", errors.ContentUnavailable, ""),
    ],
)
def test_failure_shapes_have_their_codes(
    path: str,
    error: type[errors.MediadlError],
    words: str,
    settings: Settings,
    replicas: ReplicaSite,
) -> None:
    engine = replica_engine(settings, replicas, KwaiIE)
    failure = assert_error(engine, replicas.url("www.kwai.com", path), error.code)
    assert words in failure.message


def test_short_link_to_a_profile_says_so(settings: Settings, replicas: ReplicaSite) -> None:
    engine = replica_engine(settings, replicas, KwaiIE, KwaiShortIE)
    with pytest.raises(errors.ContentNoMedia) as caught:
        engine.resolve(replicas.url("kw.ai", "/p/1mIGdN98"))
    assert "profile" in caught.value.message
