"""The URL index finds the same extractor as yt-dlp's own loop, only without compiling them all."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yt_dlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.extractor.generic import GenericIE

from mediadl import sites
from mediadl.engine import extractor_for, urlindex
from mediadl.engine.extract import resolve
from mediadl.engine.lookup import IndexedYoutubeDL
from mediadl.engine.suitable import needs_own_match
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
    assert ("://vimeo.com/", "://dailymotion.com/") in required_literals(
        r"https?://(?:vimeo\.com|dailymotion\.com)/(?P<id>\w+)"
    )
    assert required_literals(r"https?://(?:youtube\.com|youtu\.be)/") == (
        ("http",),
        ("://youtu",),
        ("://youtube.com/", "://youtu.be/"),
    )
    # a branch is read with the literals around it: `w` alone is too short to check, `/w/` isn't
    assert required_literals(r"https?://[^/]+/(?:videos/(?:watch|embed)|api/v\d/videos|w)/") == (
        ("http",),
        ("://",),
        ("/videos/watch/", "/videos/embed/", "/videos/", "/w/"),
    )
    # a repeated part is read alone: after its first `ab` comes another `ab`, not `c`
    assert required_literals(r"x(?:abc)+yz") == (("abc",),)
    assert required_literals(r"(?:xab|yab)+c") == (("xab", "yab"),)
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


class _Other(InfoExtractor):
    _VALID_URL = r"https?://other\.example/(?P<id>\d+)"


class _Excluding(InfoExtractor):
    _VALID_URL = r"https?://site\.example/(?P<id>\w+)"

    @classmethod
    def suitable(cls, url: str) -> bool:
        return False if _Other.suitable(url) else super().suitable(url)


class _Conjunction(InfoExtractor):
    _VALID_URL = r"https?://site\.example/(?P<id>\w+)"

    @classmethod
    def suitable(cls, url: str) -> bool:
        if "skip" in url:
            return False
        return cls._match_valid_url(url) is not None and not _Other.suitable(url)


class _ChildOfExcluding(_Excluding):
    _VALID_URL = r"https?://child\.example/(?P<id>\w+)"

    @classmethod
    def suitable(cls, url: str) -> bool:
        return not _Other.suitable(url) and super(_Excluding, cls).suitable(url)


class _Widening(InfoExtractor):
    _VALID_URL = r"https?://site\.example/(?P<id>\w+)"

    @classmethod
    def suitable(cls, url: str) -> bool:
        return super().suitable(url) or url.endswith(".mp4")


class _Rebinding(InfoExtractor):
    _VALID_URL = r"https?://site\.example/(?P<id>\w+)"

    @classmethod
    def suitable(cls, url: str) -> bool:
        url = url.replace("mirror.example", "site.example")
        return super().suitable(url)


class _Negating(InfoExtractor):
    _VALID_URL = r"https?://site\.example/(?P<id>\w+)"

    @classmethod
    def suitable(cls, url: str) -> bool:
        return not super().suitable(url)


class _ChildOfWidening(_Widening):
    @classmethod
    def suitable(cls, url: str) -> bool:
        return False if _Other.suitable(url) else super().suitable(url)


@pytest.mark.parametrize(
    ("ie", "indexed"),
    [
        (_Excluding, True),
        (_Conjunction, True),
        (_ChildOfExcluding, True),
        (_Widening, False),
        (_Rebinding, False),
        (_Negating, False),
        (_ChildOfWidening, False),  # its own is fine, its parent's is not
    ],
)
def test_an_own_suitable_is_indexed_only_when_it_needs_the_pattern(
    ie: type[InfoExtractor], indexed: bool
) -> None:
    assert needs_own_match(ie) is indexed
    ies = {ie.ie_key(): ie, "Generic": GenericIE}
    index = UrlIndex.build(ies)
    assert (ie.ie_key() in index.requirements) is indexed
    for link in ("https://site.example/x", "https://mirror.example/x", "https://a.example/v.mp4"):
        theirs = next((key for key, e in ies.items() if e.suitable(link)), None)
        assert first_suitable(ies, link, index) == theirs, link


def test_a_page_on_an_unknown_site_asks_few_extractors(
    ies: dict[str, object], index: UrlIndex
) -> None:
    """yt-dlp's extractors with their own ``suitable`` (YouTube's tabs, Twitch, BBC, …) are ruled
    out by their patterns too: a generic page is offered to a handful, not to 235."""
    link = fold("https://blog.example/2024/05/a-post-with-a-video.html")
    asked = [key for key in ies if index.candidates(key, link)]
    assert "YoutubeTab" not in asked
    assert "TwitchStream" not in asked
    assert "PeerTube" not in asked  # its `/w/` is read with the slashes around the `w`
    assert asked[-1] == "Generic"
    assert len(asked) < 40


def test_the_cached_index_serves_the_next_process(tmp_path: Path) -> None:
    """The digest names the same file in every process (code fingerprints hold no addresses),
    so a second process reads the index the first one wrote instead of building it again."""
    code = (
        "import sys, yt_dlp\n"
        "from pathlib import Path\n"
        "from mediadl.engine.urlindex import UrlIndex\n"
        "ydl = yt_dlp.YoutubeDL({'quiet': True}, auto_init=False)\n"
        "ydl.add_default_info_extractors()\n"
        "UrlIndex.load(dict(ydl._ies), Path(sys.argv[1]))\n"
    )
    written = []
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=120)
        [cached] = tmp_path.glob("url-index-*.json")
        written.append((cached.name, cached.stat().st_mtime_ns))
    assert written[0] == written[1]


SHAPES = [
    r"https?://(?:www\.)?(?:example|sample)\.com/v(?:ideo)?/(?P<id>\d+)",
    r"https?://[^/]+/(?:videos/(?:watch|embed)|api/v\d/videos|w)/(?P<id>[\da-f-]{8,})",
    r"(?:peer:(?P<host>[^:]+):|https?://(?P<h>a\.org|bb\.net)/(?:v|w)/)(?P<id>\d+)",
    r"x(?:abc)+yz",
    r"(?:xab|yab)+c",
    r"(?i)https?://(?:www\.)?(?:Video|clip)s?\.(?:tv|COM)/(?:(?:embed|e)/)?(?P<id>\w+)",
    r"https?://(?:[^/]+\.)?host\.(?:com|net)/(?:(?!x)[^/])+/(?:a|bc|)/(?P<id>\d+)$",
    r"(?:https?://(?:www\.)?site\.com/(?:watch|v)/|site:)(?P<id>[a-z]{3,})",
]


def _real_patterns() -> list[str]:
    ydl = yt_dlp.YoutubeDL({"quiet": True}, auto_init=False)
    ydl.add_default_info_extractors()
    found = []
    for ie in list(ydl._ies.values())[::40]:
        value = getattr(ie, "_VALID_URL", None)
        if isinstance(value, str):
            found.append(value)
    return found


PATTERNS = _real_patterns()


@given(st.data())
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_link_a_pattern_matches_holds_the_literals_it_requires(data: st.DataObject) -> None:
    """Soundness, on links drawn from the patterns themselves: the synthetic shapes above (a
    branch between literals, repeats, optional parts, case-insensitive ones) and a spread of
    yt-dlp's own patterns."""
    pattern = data.draw(st.sampled_from(SHAPES + PATTERNS))
    link = data.draw(st.from_regex(pattern))
    folded = fold(link)
    for clause in required_literals(pattern):
        assert any(option in folded for option in clause), (pattern, link, clause)
