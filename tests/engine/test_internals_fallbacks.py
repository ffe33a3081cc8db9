"""Each private internal, forced off or gone: the public way gives the same answer and downloads
still come out right."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yt_dlp
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.extractor.generic import GenericIE
from yt_dlp.extractor.lazy_extractors import LazyLoadExtractor

from mediadl import errors
from mediadl.engine import Engine, internals, urlindex
from mediadl.engine.extract import SELECT_FORMATS, select_formats
from mediadl.engine.internals import Internal
from mediadl.engine.lookup import EMBEDS, ENABLED, IES, IndexedYoutubeDL
from mediadl.engine.urlindex import (
    CANARY,
    RE_PARSER,
    VALID_URL,
    UrlIndex,
    first_suitable,
    required_literals,
)
from mediadl.engine.ytdl import new_ydl, warm_up
from mediadl.models import Choice, MediaInfo
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite
from support.internals import change_for_mediadl, hide_from_mediadl
from support.media import assert_media

SELECTORS = [
    "bv*+ba/b",
    "b",
    "w",
    "ba",
    "wv+wa/w",
    "bv[height<=480]+ba/b",
    "bv*[height<=720][ext=mp4]+ba[ext=m4a]/b",
    "b,w",
    "best[height>=99999]",
]
PAGES = ["hls", "dash", "video", "audio", "og", "jsonld", "feed", "unicode"]
LINKS = [
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://vimeo.com/76979871",
    "https://example.com/a/b.mp4",
]


def without(settings: Settings, internal: Internal) -> Settings:
    return settings.model_copy(update={"disable_internals": [internal.name]})


def picks(info: MediaInfo, selector: str, settings: Settings) -> list[str] | str:
    try:
        return [f.id for f in select_formats(info, selector, settings)]
    except errors.MediadlError as err:
        return err.code


def summary(info: MediaInfo) -> tuple[Any, ...]:
    """What a person gets from reading a link: who read it, what it is, what can be had."""
    return (
        info.extractor,
        info.title,
        info.duration,
        [(f.id, f.url, f.height, f.vcodec, f.acodec) for f in info.formats],
        [e.url for e in info.entries],
    )


def read_all(engine: Engine, site: FixtureSite) -> dict[str, tuple[Any, ...]]:
    return {page: summary(engine.resolve(site.pages[page])) for page in PAGES}


@pytest.fixture(scope="module")
def infos(site: FixtureSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, MediaInfo]:
    settings = Settings(allow_networks=["127.0.0.2/32"], data_dir=tmp_path_factory.mktemp("d"))
    engine = Engine(settings)
    return {page: engine.resolve(site.pages[page]) for page in ("hls", "dash", "video", "mp3")}


# --- yt_dlp.YoutubeDL._select_formats ------------------------------------------------------------


def test_format_selection_without_the_internal_picks_the_same(
    infos: dict[str, MediaInfo], settings: Settings
) -> None:
    off = without(settings, SELECT_FORMATS)
    for info in infos.values():
        for selector in SELECTORS:
            expected = picks(info, selector, settings)
            assert SELECT_FORMATS.state == "active"
            assert picks(info, selector, off) == expected, (info.id, selector)
            assert SELECT_FORMATS.state == "disabled"
    tallest = max((f for f in infos["hls"].formats if f.height), key=lambda f: f.height or 0)
    assert picks(infos["hls"], "bv*+ba/b", settings) == [tallest.id, "hls-aud-English"]
    assert picks(infos["hls"], "best[height>=99999]", off) == "format.unavailable"
    with pytest.raises(errors.FormatUnavailable, match="isn't valid"):
        select_formats(infos["hls"], "bv*+", off)


def test_format_selection_when_yt_dlp_renamed_it(
    infos: dict[str, MediaInfo],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expected = {(p, s): picks(i, s, settings) for p, i in infos.items() for s in SELECTORS}
    hide_from_mediadl(monkeypatch, yt_dlp.YoutubeDL, "_select_formats")
    with caplog.at_level(logging.WARNING, "mediadl.internals"):
        got = {(p, s): picks(i, s, settings) for p, i in infos.items() for s in SELECTORS}
    assert got == expected
    assert SELECT_FORMATS.state == "fallback"
    assert "AttributeError" in (SELECT_FORMATS.reason or "")
    assert len([r for r in caplog.records if SELECT_FORMATS.name in r.getMessage()]) == 1


def test_format_selection_when_its_signature_changed(
    infos: dict[str, MediaInfo], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = picks(infos["dash"], "bv*[height<=360]+ba/b", settings)
    change_for_mediadl(monkeypatch, yt_dlp.YoutubeDL, "_select_formats", lambda self, ctx: [])
    assert picks(infos["dash"], "bv*[height<=360]+ba/b", settings) == expected
    assert SELECT_FORMATS.state == "fallback" and "TypeError" in (SELECT_FORMATS.reason or "")


def test_a_raw_selector_downloads_right_without_the_internal(
    site: FixtureSite, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_from_mediadl(monkeypatch, yt_dlp.YoutubeDL, "_select_formats")
    engine = Engine(settings)
    info = engine.resolve(site.pages["hls"])
    path = engine.download(
        engine.plan(info, Choice(format_selector="bv*[height<=720]+ba/b")), tmp_path
    )
    assert_media(path, container="mp4", vcodec="h264", height=720, acodec="aac", duration=60)
    assert SELECT_FORMATS.state == "fallback"


# --- yt_dlp.YoutubeDL._ies: finding a link's extractor -------------------------------------------


def own_extractor(media_url: str) -> type[InfoExtractor]:
    """An extractor of our own for the fixture's video page, registered ahead of yt-dlp's."""

    class FixtureVideoIE(InfoExtractor):  # type: ignore[misc]
        IE_NAME = "fixturevideo"
        _VALID_URL = r"https?://127\.0\.0\.2:\d+/pages/video\.html"

        def _real_extract(self, url: str) -> dict[str, Any]:
            return {
                "id": "own",
                "title": "Read by our own extractor",
                "formats": [{"url": media_url, "format_id": "own", "ext": "mp4"}],
            }

    return FixtureVideoIE


def test_the_same_extractor_reads_each_link_without_the_lookup(
    site: FixtureSite, settings: Settings, infos: dict[str, MediaInfo]
) -> None:
    own = own_extractor(infos["video"].formats[0].url)
    expected = read_all(Engine(settings, [own]), site)
    assert expected["video"][0] == "FixtureVideo", "ours, ahead of the generic extractor"
    assert {expected[page][0] for page in PAGES} >= {"Generic", "HTML5MediaEmbed"}
    off = without(settings, IES)
    assert read_all(Engine(off, [own]), site) == expected
    assert IES.state == "disabled"
    with new_ydl(off) as ydl:
        assert all(ydl.extractor_key(link) is None for link in LINKS), "yt-dlp looks itself"


def test_the_same_extractor_reads_each_link_when_yt_dlp_renamed_its_registry(
    site: FixtureSite,
    settings: Settings,
    infos: dict[str, MediaInfo],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = own_extractor(infos["video"].formats[0].url)
    expected = read_all(Engine(settings, [own]), site)
    assert IES.state == "active"
    hide_from_mediadl(monkeypatch, yt_dlp.YoutubeDL, "_ies")
    assert read_all(Engine(settings, [own]), site) == expected
    assert IES.state == "fallback" and "AttributeError" in (IES.reason or "")


# --- yt_dlp.InfoExtractor._ENABLED: registering yt-dlp's extractors ------------------------------


def registered(ydl_class: type[yt_dlp.YoutubeDL]) -> list[tuple[str, type]]:
    ydl = ydl_class({"quiet": True}, auto_init=False)
    ydl.add_default_info_extractors()
    return [(key, ie if isinstance(ie, type) else type(ie)) for key, ie in ydl._ies.items()]


def test_the_same_extractors_are_registered_without_enabled() -> None:
    theirs = registered(yt_dlp.YoutubeDL)
    assert registered(IndexedYoutubeDL) == theirs
    assert ENABLED.state == "active"
    with internals.disabled(ENABLED.name):
        assert registered(IndexedYoutubeDL) == theirs
        assert ENABLED.state == "disabled"
    assert len(theirs) > 1500


def test_the_same_extractors_are_registered_when_enabled_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for owner in (InfoExtractor, LazyLoadExtractor):
        monkeypatch.setattr(owner, "_ENABLED", "yes")  # no longer a flag mediadl knows
    assert registered(IndexedYoutubeDL) == registered(yt_dlp.YoutubeDL)
    assert ENABLED.state == "fallback" and "TypeError" in (ENABLED.reason or "")


# --- re._parser and InfoExtractor._VALID_URL: the URL index --------------------------------------


@pytest.fixture(scope="module")
def ies() -> dict[str, Any]:
    ydl = yt_dlp.YoutubeDL({"quiet": True}, auto_init=False)
    ydl.add_default_info_extractors()
    return dict(ydl._ies)


def assert_no_index(ies: dict[str, Any], tmp_path: Path, site: FixtureSite) -> None:
    """No index (every extractor asked): yt-dlp's own answer, and nothing cached."""
    index = UrlIndex.load(ies, tmp_path)
    assert index.requirements == {} and not list(tmp_path.iterdir())
    for link in [*LINKS, site.pages["video"]]:
        expected = next(key for key, ie in ies.items() if ie.suitable(link))
        assert first_suitable(ies, link, index) == expected


def test_no_index_without_the_regex_parser(
    ies: dict[str, Any], site: FixtureSite, settings: Settings, tmp_path: Path
) -> None:
    expected = read_all(Engine(settings), site)
    assert RE_PARSER.state == "active" and UrlIndex.build(ies).requirements
    off = without(settings, RE_PARSER)
    assert read_all(Engine(off), site) == expected
    assert RE_PARSER.state == "disabled"
    assert required_literals(CANARY) == ()
    assert_no_index(ies, tmp_path, site)


def test_no_index_when_python_has_no_re_parser(
    ies: dict[str, Any],
    site: FixtureSite,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = read_all(Engine(settings), site)
    monkeypatch.delattr(re, "_constants")  # as if a newer Python moved its regex internals
    monkeypatch.setitem(sys.modules, "re._constants", None)
    assert read_all(Engine(settings), site) == expected
    assert RE_PARSER.state == "fallback" and "re._constants" in (RE_PARSER.reason or "")
    assert_no_index(ies, tmp_path, site)


def test_no_index_when_the_regex_parser_changed(
    ies: dict[str, Any], site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re._constants  # type: ignore[import-not-found]

    monkeypatch.setattr(re._constants, "LITERAL", object())  # its opcodes renumbered
    assert_no_index(ies, tmp_path, site)
    assert RE_PARSER.state == "fallback" and "reads" in (RE_PARSER.reason or "")


def test_no_index_without_valid_url(
    ies: dict[str, Any],
    site: FixtureSite,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = read_all(Engine(settings), site)
    with internals.disabled(VALID_URL.name):
        assert VALID_URL.state == "disabled"
        assert_no_index(ies, tmp_path, site)
    monkeypatch.delattr(InfoExtractor, "_VALID_URL")
    monkeypatch.setattr(urlindex, "_MEMO", {})  # as in a process started after the change
    assert read_all(Engine(settings), site) == expected
    assert_no_index(ies, tmp_path, site)
    assert VALID_URL.state == "fallback" and "_VALID_URL" in (VALID_URL.reason or "")


# --- GenericIE._extract_embeds: warming the extraction processes ---------------------------------


def test_warming_skips_the_generic_step_without_extract_embeds(
    site: FixtureSite, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm_up(settings, generic=True)
    assert EMBEDS.state == "active"
    warm_up(without(settings, EMBEDS), generic=True)
    assert EMBEDS.state == "disabled"
    expected = read_all(Engine(settings), site)
    hide_from_mediadl(monkeypatch, GenericIE, "_extract_embeds")
    warm_up(settings, generic=True)
    assert EMBEDS.state == "fallback"
    assert read_all(Engine(settings), site) == expected, "the generic extractor still works"
