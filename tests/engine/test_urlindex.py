"""The URL index finds the same extractor as yt-dlp's own loop, only without compiling them all."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest
import yt_dlp

from mediadl import sites
from mediadl.engine import extractor_for, urlindex
from mediadl.engine.extract import resolve
from mediadl.engine.lookup import IndexedYoutubeDL
from mediadl.engine.urlindex import UrlIndex, first_suitable, fold, required_literals
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite


@pytest.fixture(scope="module")
def ies() -> dict[str, object]:
    ydl = yt_dlp.YoutubeDL({"quiet": True}, auto_init=False)
    ydl.add_default_info_extractors()
    return dict(ydl._ies)


@pytest.fixture(scope="module")
def index(ies: dict[str, object]) -> UrlIndex:
    return UrlIndex.build(ies)


def yt_dlp_first(ies: dict[str, object], url: str) -> str | None:
    """yt-dlp's own answer: the first extractor, in order, whose ``suitable`` says yes."""
    return next((key for key, ie in ies.items() if ie.suitable(url)), None)  # type: ignore[attr-defined]


def test_literals_of_common_pattern_shapes() -> None:
    assert required_literals(r"https?://(?:www\.)?vimeo\.com/(?P<id>\d+)") == (
        ("http",),
        ("://",),
        ("vimeo.com/",),
    )
    # an alternation is one clause with an option per branch (re moves a shared prefix out)
    assert ("vimeo.com", "dailymotion.com") in required_literals(
        r"https?://(?:vimeo\.com|dailymotion\.com)/(?P<id>\w+)"
    )
    assert required_literals(r"https?://(?:youtube\.com|youtu\.be)/") == (
        ("http",),
        ("://youtu",),
        ("be.com", ".be"),
    )
    # optional parts and branches that need nothing give nothing
    assert required_literals(r"(?:abc)?x") == ()
    assert required_literals(r"(?:abcd|x*)y") == ()
    # (?i) patterns are matched on the folded link
    assert required_literals(r"(?i)HTTPS?://Example\.COM/") == (("http",), ("://example.com/",))


def test_folding_covers_every_character_ignorecase_matches_with_an_ascii_letter() -> None:
    letters = re.compile("[a-z]", re.IGNORECASE)
    matched = 0
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if letters.fullmatch(char):
            matched += 1
            assert fold(char) in string.ascii_lowercase, hex(point)
            assert re.fullmatch(fold(char), char, re.IGNORECASE), hex(point)
    assert matched == 52 + 4


def test_every_extractor_still_takes_its_own_example_links(
    ies: dict[str, object], index: UrlIndex
) -> None:
    """Soundness: the index never rules out an extractor for a link its pattern matches."""
    checked = 0
    for key, ie in ies.items():
        if key not in index.requirements:
            continue
        real = ie.real_class if hasattr(ie, "_module") else ie  # type: ignore[attr-defined]
        for test in list(getattr(real, "_TESTS", []))[:3]:
            url = test.get("url") if isinstance(test, dict) else None
            if isinstance(url, str) and ie.suitable(url):  # type: ignore[attr-defined]
                assert index.candidates(key, fold(url)), (key, url)
                checked += 1
    assert checked > 1500


def test_the_answer_is_yt_dlps_answer(ies: dict[str, object], index: UrlIndex) -> None:
    links = [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/playlist?list=PL590L5WQmH8fJ54F369BLDSqIwcs-TCfs",
        "https://vimeo.com/76979871",
        "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        "https://www.instagram.com/p/CbhR9dJJ9Ta/",
        "https://x.com/jack/status/20",
        "https://www.reddit.com/r/videos/comments/6rrwyj/that_small_heart_attack/",
        "https://soundcloud.com/ethmusic/lostin-powers-she-so-heavy",
        "https://www.bilibili.com/video/BV1bK411W797",
        "https://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ",
        "https://www.dailymotion.com/video/x5kesuj",
        "https://www.twitch.tv/videos/6528877",
        "http://127.0.0.2:8800/hls/master.m3u8",
        "http://127.0.0.2:8800/pages/video.html",
        "https://example.com/a/b.mp4?x=1",
        "https://peertube.cpy.re/videos/watch/2790feb0-8120-4e63-9af3-c943c69f5e6c",
    ]
    for real in list(ies.values())[::7]:  # and a spread of yt-dlp's own examples
        tests = getattr(getattr(real, "real_class", real), "_TESTS", [])
        if tests and isinstance(tests[0], dict) and isinstance(tests[0].get("url"), str):
            links.append(tests[0]["url"])
    assert len(links) > 200
    for link in links:
        assert first_suitable(ies, link, index) == yt_dlp_first(ies, link), link


def test_the_index_is_cached_on_disk_and_rebuilt_when_unreadable(
    ies: dict[str, object], tmp_path: Path
) -> None:
    urlindex._MEMO.clear()
    built = UrlIndex.load(ies, tmp_path)
    [cached] = tmp_path.glob("url-index-*.json")
    urlindex._MEMO.clear()
    assert UrlIndex.load(ies, tmp_path).requirements == built.requirements
    cached.write_text("{not json")
    urlindex._MEMO.clear()
    assert UrlIndex.load(ies, tmp_path).requirements == built.requirements
    assert UrlIndex.load(ies, tmp_path / "missing" / "deeper").requirements == built.requirements


def test_resolve_goes_through_the_index(site: FixtureSite, settings: Settings) -> None:
    urlindex._MEMO.clear()
    info = resolve(site.url("hls_master"), settings)
    assert {f.height for f in info.formats if f.has_video} >= {360, 720}
    assert list((settings.data_dir / "cache").glob("url-index-*.json"))


@pytest.mark.parametrize("allowed", [None, ["default"], ["youtube.*", "generic"]])
def test_the_same_extractors_are_registered_in_the_same_order(allowed: list[str] | None) -> None:
    params = {"quiet": True} | ({"allowed_extractors": allowed} if allowed else {})
    theirs = yt_dlp.YoutubeDL(params, auto_init=False)
    theirs.add_default_info_extractors()
    ours = IndexedYoutubeDL(params, auto_init=False)
    ours.add_default_info_extractors()
    assert list(ours._ies) == list(theirs._ies)
    assert [type(ie) if not isinstance(ie, type) else ie for ie in ours._ies.values()] == [
        type(ie) if not isinstance(ie, type) else ie for ie in theirs._ies.values()
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=OLCJYT5y8Bo",
        "https://www.twitch.tv/videos/6528877",
        "https://gaana.com/song/tum-hi-ho",
        "https://example.com/clip.mp4",
        "https://sharechat.com/video/nZaw4XM",
    ],
)
def test_extractor_for_is_the_engines_choice(url: str, settings: Settings) -> None:
    """``extractor_for`` (what ``mediadl sites --match`` says) is the extractor a download uses."""
    own = sites.extractors()
    with new_ydl(settings, own) as ydl:
        expected = next(key for key, ie in ydl._ies.items() if ie.suitable(url))
    found = extractor_for(url, own, cache_dir=settings.data_dir)
    assert found is not None and found.ie_key() == expected
