"""iFunny: the post's own video (not the page's playlist), picture and GIF posts, removed posts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl.engine import Engine
from mediadl.models import Choice
from mediadl.settings import Settings
from mediadl.sites import extractors
from mediadl.sites.ifunny import IfunnyIE
from mediadl_fixtures.replicas import ReplicaSite
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.sites import assert_error, fetch, pointed_engine, url_table

URLS = url_table(
    IfunnyIE,
    [
        "https://ifunny.co/video/hacking-printer-xRQEhCDw9",
        "https://ifunny.co/video/that-yoinky-sploinky-DMf3w6YA8",
        "https://ifunny.co/video/A2GwDqRmA?s=cl",
        "https://ifunny.co/video/CkXvQLCj9?s=cl",
        "https://br.ifunny.co/video/algo-engracado-A2GwDqRmA",
        "https://www.ifunny.co/gif/dancing-cat-Gf1xYz2aB",
        "https://ifunny.co/picture/c40IpBpmA?s=cl",
        "http://ifunny.co/fun/A2GwDqRmA",
    ],
    [
        "https://ifunny.co/user/printerguy",
        "https://ifunny.co/",
        "https://ifunny.co.evil.example/video/A2GwDqRmA",
        "https://evilifunny.co/video/A2GwDqRmA",
        "https://ifunny.com/video/A2GwDqRmA",
        "https://img.ifunny.co/videos/abc_1.mp4",
    ],
)


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_url_matching(url: str, expected: bool) -> None:
    assert IfunnyIE.suitable(url) is expected


def test_the_faces_hand_ifunny_to_the_engine() -> None:
    assert IfunnyIE in extractors()


@pytest.fixture
def ifunny(settings: Settings, replicas: ReplicaSite) -> Engine:
    return pointed_engine(settings, IfunnyIE, replicas)


def test_a_video_post_is_its_own_video_not_the_page_playlist(
    ifunny: Engine, replicas: ReplicaSite, site: FixtureSite, tmp_path: Path
) -> None:
    url = replicas.url("ifunny.co", "/video/hacking-printer-xRQEhCDw9?s=cl")
    info = ifunny.resolve(url)
    assert not info.is_playlist
    assert (info.id, info.title, info.uploader) == (
        "xRQEhCDw9",
        "hacking printer - iFunny",
        "printerguy",
    )
    assert info.thumbnail == replicas.url("img.ifunny.co", "/images/a1b2_1.jpg")
    assert len(info.formats) == 1
    path = ifunny.download(ifunny.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()
    assert_media(path, container="mp4", vcodec="h264", height=360, acodec="aac", duration=60)


def test_yt_dlp_alone_would_take_every_video_on_the_page(
    settings: Settings, replicas: ReplicaSite
) -> None:
    """Why iFunny needs an extractor of its own: the generic one returns a playlist."""
    info = Engine(settings).resolve(replicas.url("ifunny.co", "/video/hacking-printer-xRQEhCDw9"))
    assert info.is_playlist and len(info.entries) > 1


@pytest.mark.parametrize(
    ("path", "duration", "height", "uploader"),
    [
        ("/video/xRQEhCDw9", 60, 360, "printerguy"),
        ("/video/state-only-S7t8Ate00", 60, 360, "stateful"),
        ("/gif/dancing-cat-Gf1xYz2aB", 8, 240, "catfan"),
    ],
    ids=["id-only-url", "page-state-only", "gif-as-mp4"],
)
def test_every_place_the_post_video_is_named(
    path: str,
    duration: int,
    height: int,
    uploader: str,
    ifunny: Engine,
    replicas: ReplicaSite,
    tmp_path: Path,
) -> None:
    url = replicas.url("br.ifunny.co" if "gif" in path else "ifunny.co", path)
    info = ifunny.resolve(url)
    assert info.uploader == uploader
    saved = fetch(ifunny, url, tmp_path)
    assert_media(
        saved, container="mp4", vcodec="h264", height=height, acodec="aac", duration=duration
    )


def test_a_post_embedding_another_site_is_read_by_that_site_extractor(
    ifunny: Engine, replicas: ReplicaSite, tmp_path: Path
) -> None:
    path = fetch(ifunny, replicas.url("ifunny.co", "/video/embedded-Em83dCoub"), tmp_path)
    assert_media(path, container="mp4", vcodec="h264", height=240, acodec="aac", duration=10)
    assert any(r.path == "/coub.com/embed/2pc24rpb" for r in replicas.requests)


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/picture/a-meme-c40IpBpmA?s=cl", "content.no_media", "picture"),
        ("/gif/still-Gs0000000", "content.no_media", "GIF"),
        ("/video/gone-N0tTh3r3", "content.unavailable", "deleted"),
        ("/video/changed-Ch4ng3d00", "content.invalid", "og:video"),
    ],
    ids=["picture", "still-gif", "removed", "page-changed"],
)
def test_posts_without_a_video_say_why(
    path: str, code: str, words: str, ifunny: Engine, replicas: ReplicaSite
) -> None:
    error = assert_error(ifunny, replicas.url("ifunny.co", path), code)
    assert words in error.message
