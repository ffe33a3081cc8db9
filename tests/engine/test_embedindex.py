"""The embed index: a page no extractor claims gives yt-dlp's own answer, without loading the
extractors that can't find an embed in it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yt_dlp
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.extractor.lazy_extractors import LazyLoadExtractor

from mediadl.engine import embedindex, internals
from mediadl.engine.embedindex import (
    BASE_EMBEDS,
    EMBED_REGEX,
    LAZY,
    EmbedIndex,
    fold_page,
    install,
)
from mediadl.engine.extract import resolve
from mediadl.engine.lookup import EMBEDS
from mediadl.engine.sandbox import ExtractorPool
from mediadl.engine.urlindex import fold
from mediadl.engine.ytdl import new_ydl, warm_up
from mediadl.settings import Settings
from mediadl_fixtures import EMBEDDED_PLAYERS, FixtureSite
from support.internals import hide_from_mediadl

SCAN = """
import json, sys
from pathlib import Path
import yt_dlp
from yt_dlp.extractor import gen_extractor_classes

def plain(value):
    # without what differs from run to run: the time, the user agent yt-dlp draws
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in ("epoch", "User-Agent")}
    return [plain(v) for v in value] if isinstance(value, list) else value

mode, cache, urls = sys.argv[1], sys.argv[2], sys.argv[3:]
params = {"quiet": True, "no_warnings": True, "extract_flat": "in_playlist"}
found = {}
with yt_dlp.YoutubeDL(params) as ydl:
    if mode == "index":
        from mediadl.engine import embedindex
        assert embedindex.install(ydl, Path(cache)) is not None
    for url in urls:
        try:
            info = ydl.sanitize_info(ydl.extract_info(url, download=False))
        except yt_dlp.utils.DownloadError as exc:
            found[url] = str(exc)
        else:
            found[url] = plain(info)
lazy = [ie for ie in gen_extractor_classes() if hasattr(ie, "_module")]
print(json.dumps({
    "found": found,
    "loaded": sorted(ie.__name__ for ie in lazy if "_real_class" in vars(ie)),
    "modules": sorted(m for m in sys.modules if m.startswith("yt_dlp.extractor.")),
}, sort_keys=True, default=str))
"""


def scan(mode: str, cache: Path, urls: list[str], **env: str) -> dict[str, Any]:
    """Extract ``urls`` in a fresh process: with yt-dlp alone (``own``) or with the embed index
    cached in ``cache`` (``index``); what it found, loaded and imported."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADL_", "YTDLP_"))}
    environ |= {"YTDLP_NO_PLUGINS": "1", **env}
    done = subprocess.run(
        [sys.executable, "-c", SCAN, mode, str(cache), *urls],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def index() -> EmbedIndex:
    lazy = {ie.__name__: ie for ie in gen_extractor_classes() if hasattr(ie, "_module")}
    return EmbedIndex.build(lazy)


@pytest.fixture
def restored() -> Iterator[None]:
    """Whatever a test does to the classes and internals, the next one finds them as before."""
    with internals.isolated():
        yield
    embedindex._remove_hook()


def kinds(index: EmbedIndex) -> tuple[set[str], set[str], set[str]]:
    """The names of yt-dlp's enabled extractors: inert, by pattern, custom."""
    lazy = {ie.__name__ for ie in gen_extractor_classes() if hasattr(ie, "_module") and ie._ENABLED}
    inert = {name for name, record in index.records.items() if not record} & lazy
    by_pattern = set(index.records) & lazy - inert
    return inert, by_pattern, lazy - inert - by_pattern


def test_most_extractors_can_find_no_embed(index: EmbedIndex) -> None:
    inert, by_pattern, custom = kinds(index)
    assert len(inert) > 1000
    assert {"YoutubeIE", "VimeoIE", "HTML5MediaEmbedIE"} <= custom
    assert {"StreamableIE", "SoundcloudEmbedIE"} <= by_pattern
    for name in inert:
        real = getattr(yt_dlp.extractor, name).real_class
        assert not real._EMBED_REGEX
        assert real._extract_embed_urls.__func__ is InfoExtractor._extract_embed_urls.__func__


def test_the_answer_is_yt_dlps_own_and_inert_extractors_stay_unloaded(
    site: FixtureSite, tmp_path: Path, index: EmbedIndex
) -> None:
    urls = list(site.pages.values())
    own = scan("own", tmp_path, urls)
    built = scan("index", tmp_path, urls)  # builds the index: every real class read once
    cached = scan("index", tmp_path, urls)  # the next process reads it
    assert len(list(tmp_path.glob("embed-index-*.json"))) == 1
    assert built["found"] == own["found"]
    assert cached["found"] == own["found"]
    embeds = own["found"][site.pages["embeds"]]["entries"]
    assert [e["url"].split("#")[0] for e in embeds] == [  # in yt-dlp's order of extractors
        EMBEDDED_PLAYERS[0],
        EMBEDDED_PLAYERS[3],
        EMBEDDED_PLAYERS[2],
        EMBEDDED_PLAYERS[1],
    ]

    inert, by_pattern, custom = kinds(index)
    pages = [urllib.request.urlopen(u).read().decode() for u in urls]
    matched = {
        name
        for name in by_pattern
        if any(re.search(p.source, page) for p in index.records[name] for page in pages)
    }
    assert matched == {"StreamableIE", "SoundcloudEmbedIE"}
    assert set(cached["loaded"]) == {"GenericIE"} | custom | matched
    assert len(own["loaded"]) == len(inert | by_pattern | custom)
    assert len(cached["modules"]) < len(own["modules"]) / 5


def test_resolve_finds_the_same_players(site: FixtureSite, settings: Settings) -> None:
    info = resolve(site.pages["embeds"], settings)
    with yt_dlp.YoutubeDL({"quiet": True, "extract_flat": "in_playlist"}) as ydl:
        embedindex._remove_hook()  # yt-dlp as it comes
        own = ydl.extract_info(site.pages["embeds"], download=False)
    assert [e.url for e in info.entries] == [e["url"] for e in own["entries"]]
    assert LAZY.state == "active" and EMBED_REGEX.state == "active"


def test_a_pattern_is_skipped_only_where_it_cannot_match(index: EmbedIndex) -> None:
    """Each by-pattern extractor's own example links, embedded as a page would embed them:
    the substrings the index requires never rule out a page one of its patterns matches."""
    players = []
    for name, record in index.records.items():
        real = getattr(yt_dlp.extractor, name).real_class
        for test in [*getattr(real, "_TESTS", []), *getattr(real, "_WEBPAGE_TESTS", [])]:
            if record and isinstance(test, dict) and isinstance(test.get("url"), str):
                players.append(test["url"])
    frames = [f'<iframe src="{u}" width="640"></iframe>' for u in players]
    frames += [f"<IFRAME SRC='{u.upper()}'>" for u in players]
    page = "<html><body>\u0130\u017f\u212a " + "\n".join(frames) + "</body></html>"
    matched = 0
    for record in index.records.values():
        truth = any(re.search(p.source, page) for p in record)
        assert embedindex._found(record, page) == truth, record
        matched += truth
    assert matched > 40


def test_the_patterns_custom_code_searches_are_skipped_only_where_they_cannot_match(
    index: EmbedIndex,
) -> None:
    """As above, for the patterns extractors with code of their own search through yt-dlp's
    base method (PeerTube, Vimeo, Dailymotion, …)."""
    players = []
    for name in index.bases:
        real = getattr(yt_dlp.extractor, name).real_class
        for test in [*getattr(real, "_TESTS", []), *getattr(real, "_WEBPAGE_TESTS", [])]:
            if isinstance(test, dict) and isinstance(test.get("url"), str):
                players.append(test["url"])
    frames = [f'<iframe src="{u}" width="640"></iframe>' for u in players]
    frames += [f"<IFRAME SRC='{u.upper()}'>" for u in players]
    page = "<html><body>\u0130\u017f\u212a " + "\n".join(frames) + "</body></html>"
    assert {"PeerTubeIE", "VimeoIE", "DailymotionIE"} <= set(index.bases)
    matched = 0
    for record in index.bases.values():
        truth = any(re.search(p.source, page) for p in record)
        assert embedindex._found(record, page) == truth, record
        matched += truth
    assert matched > 10


PEERTUBE_PAGE = (
    "<html><body><p>A post.</p><iframe width=560 "
    'src="https://framatube.org/videos/embed/oUXt8NMYRRyBTeeKAHDRZr"></iframe>'
    "</body></html>"
)


@pytest.mark.usefixtures("restored")
def test_a_custom_extractor_compiles_its_patterns_only_for_a_page_that_may_hold_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PeerTube's embed code searches its pattern of ~1,000 instances through yt-dlp's base
    method: the same embeds as yt-dlp finds, and no compile for a page without one."""
    from yt_dlp.extractor.peertube import PeerTubeIE

    embedindex._remove_hook()
    own = InfoExtractor._extract_embed_urls.__func__  # type: ignore[attr-defined]
    monkeypatch.delattr(PeerTubeIE, "_EMBED_URL_RE", raising=False)  # as before a first search
    url = "https://blog.example/post"
    plain = "<html><body><p>A post.</p><video src=a.mp4></video></body></html>"
    with new_ydl(Settings()) as ydl:
        assert install(ydl, tmp_path) is not None
        assert BASE_EMBEDS.state == "active"
        assert not PeerTubeIE._extract_embed_urls(url, plain)
        assert "_EMBED_URL_RE" not in vars(PeerTubeIE)  # yt-dlp compiles them on a first search
        found = PeerTubeIE._extract_embed_urls(url, PEERTUBE_PAGE)
    assert list(found) == list(own(PeerTubeIE, url, PEERTUBE_PAGE))
    assert list(found) == ["https://framatube.org/videos/embed/oUXt8NMYRRyBTeeKAHDRZr"]
    embedindex._remove_hook()
    assert InfoExtractor._extract_embed_urls.__func__ is own  # type: ignore[attr-defined]


@pytest.mark.usefixtures("restored")
def test_with_the_base_method_internal_off_yt_dlps_own_is_left(
    site: FixtureSite, settings: Settings, tmp_path: Path
) -> None:
    embedindex._remove_hook()
    own = vars(InfoExtractor)["_extract_embed_urls"]
    off = settings.model_copy(update={"disable_internals": [BASE_EMBEDS.name]})
    assert embeds_of(site, off) == own_embeds(site)
    assert vars(InfoExtractor)["_extract_embed_urls"] is own
    assert BASE_EMBEDS.state == "disabled"


def test_folding_a_page_keeps_what_folding_a_link_keeps() -> None:
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        folded, page = fold(char), fold_page(char)
        if folded.isascii():
            assert page == folded, hex(point)
        else:
            assert not any(c.isascii() for c in page), hex(point)


# --- the cache -----------------------------------------------------------------------------


def lazy_classes() -> dict[str, type]:
    return embedindex._lazy_classes(gen_extractor_classes())[1]


def test_the_cache_of_another_yt_dlp_is_rebuilt(
    tmp_path: Path, index: EmbedIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yt_dlp.version, "__version__", "2001.01.01")
    EmbedIndex.load(lazy_classes(), tmp_path)
    [old] = tmp_path.glob("embed-index-*.json")
    old.write_text(json.dumps({"inert": ["YoutubeIE"], "by_pattern": {}}))  # YouTube not asked
    monkeypatch.undo()
    loaded = EmbedIndex.load(lazy_classes(), tmp_path)
    [new] = tmp_path.glob("embed-index-*.json")
    assert new.name != old.name
    assert loaded.records == index.records
    assert EmbedIndex.load(lazy_classes(), tmp_path).records == index.records  # read back


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"inert": ["VimeoIE"]}',
        '{"inert": [1], "by_pattern": {}}',
        '{"inert": [], "by_pattern": {"VimeoIE": [[1, []]]}}',
        '{"inert": [], "by_pattern": {"VimeoIE": "ab"}}',
        '{"inert": [], "by_pattern": {"VimeoIE": []}}',
    ],
)
def test_an_unreadable_cache_is_rebuilt(tmp_path: Path, index: EmbedIndex, text: str) -> None:
    EmbedIndex.load(lazy_classes(), tmp_path)
    [cached] = tmp_path.glob("embed-index-*.json")
    cached.write_text(text)
    assert EmbedIndex.load(lazy_classes(), tmp_path).records == index.records
    assert EmbedIndex.load(lazy_classes(), tmp_path / "a-file" / "x").records == index.records


@pytest.mark.usefixtures("restored")
def test_a_cached_pattern_that_does_not_compile_asks_the_extractor(
    site: FixtureSite, settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"data_dir": tmp_path})
    embedindex._remove_hook()
    embeds_of(site, settings)
    [cached] = (tmp_path / "cache").glob("embed-index-*.json")
    raw = json.loads(cached.read_text())
    raw["by_pattern"]["StreamableIE"] = [["<iframe (unclosed", []]]
    cached.write_text(json.dumps(raw))
    embedindex._remove_hook()  # as in the next process
    assert embeds_of(site, settings) == own_embeds(site)
    assert "StreamableIE" in hooked()


# --- the fallbacks -------------------------------------------------------------------------


def hooked() -> list[str]:
    """The lazy classes the embed index answers for (inert and by pattern) in this process."""
    current = embedindex._current.value
    if current is None or not isinstance(
        vars(LazyLoadExtractor).get("extract_from_webpage"), embedindex._Hook
    ):
        return []
    return [ie.__name__ for ie in current.records]


def embeds_of(site: FixtureSite, settings: Settings) -> list[str]:
    with new_ydl(settings) as ydl:
        info = ydl.extract_info(site.pages["embeds"], download=False)
    return [e["url"] for e in info["entries"]]


def own_embeds(site: FixtureSite) -> list[str]:
    own = scan("own", Path("/nonexistent"), [site.pages["embeds"]])
    return [e["url"] for e in own["found"][site.pages["embeds"]]["entries"]]


@pytest.mark.usefixtures("restored")
def test_with_the_internal_off_every_extractor_is_asked(
    site: FixtureSite, settings: Settings
) -> None:
    assert embeds_of(site, settings) == own_embeds(site)
    assert len(hooked()) > 1000
    off = settings.model_copy(update={"disable_internals": [LAZY.name]})
    assert embeds_of(site, off) == own_embeds(site)
    assert hooked() == []
    assert LAZY.state == "disabled"


@pytest.mark.usefixtures("restored")
def test_when_yt_dlp_gave_the_lazy_classes_their_own_method(
    site: FixtureSite, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedindex._remove_hook()  # as in a process started after the change

    def ask_the_real_class(cls: Any, ydl: Any, url: str, webpage: str) -> Any:
        return cls.real_class.extract_from_webpage(ydl, url, webpage)

    LazyLoadExtractor.extract_from_webpage = classmethod(ask_the_real_class)  # type: ignore[attr-defined]
    try:
        assert embeds_of(site, settings) == own_embeds(site)
        assert hooked() == []
    finally:
        del LazyLoadExtractor.extract_from_webpage  # type: ignore[attr-defined]
    assert LAZY.state == "fallback" and "load their real class" in (LAZY.reason or "")


@pytest.mark.usefixtures("restored")
def test_when_yt_dlp_renamed_its_lazy_base_class(
    site: FixtureSite, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedindex._remove_hook()
    monkeypatch.delattr(sys.modules[embedindex.LAZY_MODULE], "LazyLoadExtractor")
    assert embeds_of(site, settings) == own_embeds(site)
    assert hooked() == []
    assert LAZY.state == "fallback" and "LazyLoadExtractor" in (LAZY.reason or "")


@pytest.mark.usefixtures("restored")
def test_when_yt_dlp_renamed_the_embed_patterns(
    site: FixtureSite, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedindex._remove_hook()
    monkeypatch.setattr(embedindex, "_base_checked", False)
    hide_from_mediadl(monkeypatch, InfoExtractor, "_EMBED_REGEX")
    assert embeds_of(site, settings) == own_embeds(site)
    assert hooked() == []
    assert EMBED_REGEX.state == "fallback" and "_EMBED_REGEX" in (EMBED_REGEX.reason or "")


@pytest.mark.usefixtures("restored")
def test_when_yt_dlps_base_methods_find_embeds_without_patterns(
    site: FixtureSite, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer yt-dlp whose base methods also offer an extractor every iframe it takes: the
    canary sees it, and every extractor is asked again, as that yt-dlp would ask them."""
    embedindex._remove_hook()
    monkeypatch.setattr(embedindex, "_base_checked", False)
    original = InfoExtractor.__dict__["_extract_from_webpage"].__func__

    def iframes_too(cls: Any, url: str, webpage: str) -> Iterator[dict[str, Any]]:
        yield from original(cls, url, webpage)
        for src in re.findall(r'<iframe src="([^"]+)"', webpage):
            if cls.suitable(src):
                yield cls.url_result(src)

    monkeypatch.setattr(InfoExtractor, "_extract_from_webpage", classmethod(iframes_too))
    found = embeds_of(site, settings)
    assert EMBED_REGEX.state == "fallback" and "found" in (EMBED_REGEX.reason or "")
    assert hooked() == []
    with yt_dlp.YoutubeDL({"quiet": True, "extract_flat": "in_playlist"}) as ydl:
        own = ydl.extract_info(site.pages["embeds"], download=False)
    assert found == [e["url"] for e in own["entries"]]
    assert len(found) > len(EMBEDDED_PLAYERS)  # that yt-dlp's answer: the generic one's too


def test_without_lazy_extractors_nothing_changes(site: FixtureSite, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mediadl.engine.embedindex import LAZY\n"
        "from mediadl.engine.extract import resolve\n"
        "from mediadl.settings import Settings\n"
        "settings = Settings(allow_networks=['127.0.0.2/32'], data_dir=Path(sys.argv[2]))\n"
        "info = resolve(sys.argv[1], settings)\n"
        "print(LAZY.state, *[e.url for e in info.entries])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    env["YTDLP_NO_LAZY_EXTRACTORS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code, site.pages["embeds"], str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    state, *urls = done.stdout.split()
    assert state == "unused"
    assert urls == own_embeds(site)
    assert not list(tmp_path.rglob("embed-index-*.json"))


# --- the extraction processes ----------------------------------------------------------------


@pytest.mark.usefixtures("restored")
def test_warming_puts_the_index_in_place_for_the_forked_extractions(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"data_dir": tmp_path})
    embedindex._remove_hook()
    warm_up(settings, generic=True)
    assert EMBEDS.state == "active" and LAZY.state == "active"
    index = install(None, None)  # the one in place
    assert index is not None
    assert set(hooked()) == set(index.records)
    assert not list(settings.data_dir.rglob("embed-index-*.json")), "warming writes nothing"


async def test_the_extraction_processes_use_the_index_the_forkserver_warmed(
    site: FixtureSite, settings: Settings, tmp_path: Path
) -> None:
    """Each extraction forked from the warm forkserver finds the index in place: it neither
    builds one nor reads or writes the cache, and answers as yt-dlp does."""
    settings = settings.model_copy(update={"data_dir": tmp_path})
    pool = ExtractorPool(settings, workers=1)
    try:
        info = await pool.resolve(site.pages["embeds"])
    finally:
        await pool.close()
    assert [e.url for e in info.entries] == own_embeds(site)
    assert list((tmp_path / "cache").glob("embed-index-*.json")) == []
