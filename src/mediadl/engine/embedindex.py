"""Which extractors can find an embed in a page, known without importing all 1,750 of them.

yt-dlp's generic extractor, reading a page no extractor claims, asks every registered extractor in
turn whether the page embeds one of its videos (``extract_from_webpage``). yt-dlp's lazy
extractors load their real class on that question, i.e. import its module: every extractor module
of yt-dlp, about half a second of each ``mediadl get`` of such a page. Most can only say no:

- **inert** (about 1,580): no embed patterns (``_EMBED_REGEX``) and no embed code of their own:
  yt-dlp's base methods then find nothing, whatever the page;
- **by pattern** (about 100): embed patterns searched by yt-dlp's base methods alone, which find
  something only where one of those patterns matches the page
  (``re.compile(pattern).finditer(page)``);
- **custom** (about 70): code of their own; asked as yt-dlp asks them.

The index records this once per yt-dlp, reading every real class (the import the generic
extractor paid anyway), cached on disk beside the URL index (:mod:`mediadl.engine.urlindex`) under
a digest of yt-dlp's version, its lazy extractors and plugins. :func:`install` gives yt-dlp's lazy
base class an ``extract_from_webpage``, which the lazy classes inherit: an inert extractor answers
nothing unloaded; a by-pattern one has the page searched for its patterns (each compiled only when
the page holds the substrings it needs, :func:`~mediadl.engine.urlindex.required_literals`) and
its real class is asked only when one matches; a custom one is asked as yt-dlp asks it. Many
custom ones also have embed patterns that their code searches through yt-dlp's base
``_extract_embed_urls`` (PeerTube: one pattern of ~1,000 instances, ~50 ms to compile); that base
method, put in place too, skips a class's recorded patterns where the page lacks the substrings
they need, without compiling them. The generic extractor's loop, its order and its answer stay
yt-dlp's own.

Three private internals (:mod:`mediadl.engine.internals`): the lazy classes' loading on a miss,
checked before use, yt-dlp's base embed methods over ``_EMBED_REGEX``, checked on a canary
extractor, and the base ``_extract_embed_urls`` itself (:data:`BASE_EMBEDS`). Without either
of the first two, or without lazy extractors (``YTDLP_NO_LAZY_EXTRACTORS``), no class is
changed: every extractor is asked, as yt-dlp does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from mediadl.engine.internals import declare
from mediadl.engine.urlindex import CANARY, RE_PARSER, Clause, required_literals, write_cache

__all__ = ["BASE_EMBEDS", "EMBED_REGEX", "LAZY", "EmbedIndex", "Pattern", "fold_page", "install"]

log = logging.getLogger("mediadl.ytdl")

FORMAT = 2
"""Bump when the analysis changes: it is part of the cache's digest."""
HOOK = "extract_from_webpage"
OWN_CODE = ("extract_from_webpage", "_extract_from_webpage", "_extract_embed_urls")
"""yt-dlp's base embed methods: an extractor defining any of them has code of its own."""
LAZY_MODULE = "yt_dlp.extractor.lazy_extractors"
_FALLBACK = "every extractor looks for embeds itself, as yt-dlp does (a page no extractor claims "
_FALLBACK += "imports every extractor module)"

LAZY = declare(
    "yt_dlp.extractor.lazy_extractors.LazyLoadExtractor._real_class",
    purpose="reading a page no extractor claims, an extractor that can't find an embed in it is "
    "not loaded (its module not imported): about half a second of the first such page of a process",
    fallback=_FALLBACK,
)
EMBED_REGEX = declare(
    "yt_dlp.InfoExtractor._EMBED_REGEX",
    purpose="the embed index reads which extractors look for embeds with yt-dlp's base methods "
    "alone, and their patterns, so a page is searched for them before their extractor is loaded",
    fallback=_FALLBACK,
)
BASE_EMBEDS = declare(
    "yt_dlp.InfoExtractor._extract_embed_urls",
    purpose="extractors with embed code of their own that search their embed patterns through "
    "yt-dlp's base method don't compile them for a page that lacks what they need (PeerTube's "
    "pattern of ~1,000 instances: ~50 ms of each page no extractor claims)",
    fallback="yt-dlp's own base method: those patterns are compiled and searched on every page",
)


class Pattern(NamedTuple):
    """One embed pattern and the substrings every match of it holds (folded)."""

    source: str
    clauses: tuple[Clause, ...]


Record = tuple[Pattern, ...]
"""An extractor's embed patterns; ``()``: inert."""


class EmbedIndex:
    """The records of the inert and by-pattern extractors, by lazy class name (custom: absent),
    and the embed patterns of custom ones (``bases``: what yt-dlp's base method would search)."""

    def __init__(
        self, records: Mapping[str, Record], bases: Mapping[str, Record] | None = None
    ) -> None:
        self.records = dict(records)
        self.bases = dict(bases or {})

    @classmethod
    def build(cls, lazy: Mapping[str, type]) -> EmbedIndex:
        """Read every real class behind ``lazy`` (importing its module)."""
        from yt_dlp.extractor.common import InfoExtractor

        records: dict[str, Record] = {}
        bases: dict[str, Record] = {}
        for name, ie in lazy.items():
            try:
                real = ie.real_class  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - yt-dlp meets the same error when it asks
                log.debug("extractor %s can't be loaded: %s", name, exc)
                continue
            sources = _sources(real, InfoExtractor)
            if sources is not None:
                records[name] = tuple(Pattern(s, required_literals(s)) for s in sources)
            elif own := _patterns(real):
                bases[name] = tuple(Pattern(s, required_literals(s)) for s in own)
        return cls(records, bases)

    @classmethod
    def load(cls, lazy: Mapping[str, type], cache_dir: Path | None) -> EmbedIndex:
        """The index of ``lazy``, from ``cache_dir`` when it was built for the same yt-dlp."""
        path = cache_dir / f"embed-index-{_digest(lazy)[:16]}.json" if cache_dir else None
        index = _read(path) if path else None
        if index is None:
            index = cls.build(lazy)
            if path:
                _write(path, index)
        return index

    def warm(self) -> None:
        """Compile every by-pattern and custom extractor's patterns (kept in ``re``'s cache)."""
        for record in (*self.records.values(), *self.bases.values()):
            for pattern in record:
                re.compile(pattern.source)


def _sources(real: type, base: type) -> tuple[str, ...] | None:
    """``real``'s embed patterns when yt-dlp's base methods are all it has (``()``: none);
    ``None`` for code of its own or anything unusual (it is then asked, as yt-dlp asks it)."""
    mro = real.__mro__
    if base not in mro:
        return None
    if any(name in vars(klass) for klass in mro[: mro.index(base)] for name in OWN_CODE):
        return None
    value = _patterns(real, empty=True)
    if value is None:
        return None
    try:
        compiled = [re.compile(p) for p in value]
        kept = vars(real).get("_EMBED_URL_RE")  # what yt-dlp compiled, once it has asked
        if kept is not None and [(c.pattern, c.flags) for c in kept] != [
            (c.pattern, c.flags) for c in compiled
        ]:
            return None
    except (re.error, TypeError, AttributeError):
        return None
    return tuple(value)


def _patterns(real: type, *, empty: bool = False) -> tuple[str, ...] | None:
    """``real``'s embed patterns as yt-dlp's base method would search them (``()`` only with
    ``empty``); ``None`` when they aren't a list of patterns with one ``url`` group each (yt-dlp's
    own check then fails: let it say so)."""
    mro = real.__mro__
    value = next((vars(k)["_EMBED_REGEX"] for k in mro if "_EMBED_REGEX" in vars(k)), None)
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        return None
    if any(p.count("(?P<url>") != 1 for p in value):
        return None
    return tuple(value) if value or empty else None


# --- the hook on the lazy classes ------------------------------------------------------------


class _Hook(classmethod):  # type: ignore[type-arg]
    """The ``extract_from_webpage`` :func:`install` gives yt-dlp's lazy base class."""


@dataclass(frozen=True)
class _InPlace:
    registered: tuple[Any, ...]
    """The registered extractors the index was put in place for."""
    index: EmbedIndex
    base: type
    records: dict[type, Record]
    """The inert and by-pattern lazy classes' records (custom ones: absent)."""
    base_replaced: bool = False
    """Whether :func:`_base_embeds` is in place of yt-dlp's base ``_extract_embed_urls``."""


class _Current:
    """What :func:`install` put in place in this process (``None``: nothing, yt-dlp as it is)."""

    value: _InPlace | None = None


_current = _Current()
_lock = threading.Lock()


def install(ydl: Any, cache_dir: Path | None) -> EmbedIndex | None:
    """Put the embed index in place for yt-dlp's lazy extractors (cached in ``cache_dir``).

    Called before each ``YoutubeDL``'s first generic page; done once per process for the same
    extractors. ``None``, with the classes as yt-dlp made them, without lazy extractors or with
    either internal off or changed. ``ydl`` runs the canary of yt-dlp's base methods.
    """
    if not (LAZY.usable() and EMBED_REGEX.usable()):
        _remove_hook()
        return None
    from yt_dlp.extractor import gen_extractor_classes

    registered = tuple(gen_extractor_classes())
    current = _current.value
    if current is not None and current.registered == registered:
        with _lock:  # the base method as the internal now says
            replaced = _replace_base(current.index)
            if replaced != current.base_replaced:
                _current.value = dataclasses.replace(current, base_replaced=replaced)
        LAZY.worked()  # in use for this YoutubeDL too (a state reset since the first one sees it)
        EMBED_REGEX.worked()
        return current.index
    try:
        base, lazy = _lazy_classes(registered)
    except Exception as exc:  # noqa: BLE001 - changed classes fail in any way
        LAZY.fell_back(exc)
        base, lazy = None, {}
    if base is None or not lazy:
        _remove_hook()
        return None
    try:
        _check_base(ydl)
        index = EmbedIndex.load(lazy, cache_dir)
    except Exception as exc:  # noqa: BLE001 - as above
        EMBED_REGEX.fell_back(exc)
        _remove_hook()
        return None
    records = {ie: index.records[name] for name, ie in lazy.items() if name in index.records}
    with _lock:
        _current.value = _InPlace(registered, index, base, records, _replace_base(index))
        if not isinstance(vars(base).get(HOOK), _Hook):
            setattr(base, HOOK, _HOOK)
    LAZY.worked()
    EMBED_REGEX.worked()
    return index


def _lazy_classes(registered: Iterable[Any]) -> tuple[type | None, dict[str, type]]:
    """yt-dlp's lazy base class and the lazy classes among ``registered``, by name; raises when
    they look changed. ``(None, {})`` when yt-dlp runs without lazy extractors."""
    module = sys.modules.get(LAZY_MODULE)
    if module is None:
        return None, {}
    base = module.LazyLoadExtractor
    for name in ("real_class", "_module"):
        if name not in vars(base):
            raise AttributeError(f"LazyLoadExtractor has no {name}")
    own = vars(base).get(HOOK)
    if not callable(vars(type(base)).get("__getattr__")) or not (
        own is None or isinstance(own, _Hook)
    ):
        raise TypeError("lazy extractors no longer load their real class on a miss")
    found = {
        ie.__name__: ie
        for ie in registered
        if isinstance(ie, type)
        and issubclass(ie, base)
        and isinstance(vars(ie).get("_module"), str)
    }
    return base, found


def _remove_hook() -> None:
    """The lazy classes, and yt-dlp's base embed method, back as yt-dlp made them."""
    with _lock:
        current, _current.value = _current.value, None
        if current is not None and isinstance(vars(current.base).get(HOOK), _Hook):
            delattr(current.base, HOOK)
        if current is not None and current.base_replaced:
            from yt_dlp.extractor.common import InfoExtractor

            if isinstance(vars(InfoExtractor).get(BASE_METHOD), _BaseHook):
                setattr(InfoExtractor, BASE_METHOD, _yt_dlp_base)


BASE_METHOD = "_extract_embed_urls"


class _BaseHook(classmethod):  # type: ignore[type-arg]
    """The base ``_extract_embed_urls`` :func:`install` puts in place of yt-dlp's."""


_yt_dlp_base: Any = None
"""yt-dlp's own base ``_extract_embed_urls``, as found before :func:`_replace_base` replaced it."""


def _replace_base(index: EmbedIndex) -> bool:
    """Put :func:`_base_embeds` in place of yt-dlp's base method (or yt-dlp's back, when the
    internal is off or this index has no patterns for it); whether it is in place. Under
    ``_lock``."""
    global _yt_dlp_base  # noqa: PLW0603 - what yt-dlp had, kept for the process's life
    from yt_dlp.extractor.common import InfoExtractor

    own = vars(InfoExtractor).get(BASE_METHOD)
    if not isinstance(own, _BaseHook):
        _yt_dlp_base = own
    usable = isinstance(_yt_dlp_base, classmethod)
    if not usable and BASE_EMBEDS.usable():
        BASE_EMBEDS.fell_back(TypeError(f"InfoExtractor.{BASE_METHOD} is no classmethod"))
    if not (usable and index.bases and BASE_EMBEDS.usable()):
        if isinstance(own, _BaseHook):
            setattr(InfoExtractor, BASE_METHOD, _yt_dlp_base)
        return False
    if not isinstance(own, _BaseHook):
        setattr(InfoExtractor, BASE_METHOD, _BASE_HOOK)
    BASE_EMBEDS.worked()
    return True


def _base_embeds(cls: Any, url: str, webpage: Any) -> Any:
    """yt-dlp's base ``_extract_embed_urls``, except for a class whose recorded patterns are the
    ones it has and none of which can match the page: nothing, without compiling them."""
    current = _current.value
    bases = current.index.bases if current is not None and current.base_replaced else {}
    record = bases.get(getattr(cls, "__name__", ""))
    if record is not None and isinstance(webpage, str) and _patterns(cls) == _sources_of(record):
        try:
            if not _found(record, webpage):
                return _nothing()
        except re.error:  # yt-dlp's own compile says so
            pass
    return _yt_dlp_base.__func__(cls, url, webpage)


def _sources_of(record: Record) -> tuple[str, ...]:
    return tuple(p.source for p in record)


_BASE_HOOK = _BaseHook(_base_embeds)


def _scan(cls: Any, ydl: Any, url: str, webpage: Any) -> Any:
    """Every lazy class's ``extract_from_webpage``: nothing for an inert one, or a by-pattern one
    none of whose patterns is in the page; else (custom ones: not in the records) its real
    class's answer, as yt-dlp asks it."""
    current = _current.value
    record = current.records.get(cls) if current is not None else None
    try:
        absent = record is not None and isinstance(webpage, str) and not _found(record, webpage)
    except re.error:  # a cached pattern that doesn't compile (yt-dlp's own compile)
        absent = False
    if absent:
        return _nothing()
    return cls.real_class.extract_from_webpage(ydl, url, webpage)


_HOOK = _Hook(_scan)


def _nothing() -> Iterator[Any]:
    yield from ()


def _found(record: Record, page: str) -> bool:
    """Whether any pattern of ``record`` matches somewhere in ``page`` (``re.search``, as
    yt-dlp's ``finditer``); one whose substrings aren't all in the page can't, and isn't tried."""
    literals = RE_PARSER.usable() and any(p.clauses for p in record)
    folded = _LAST.folded(page) if literals else ""
    for pattern in record:
        if literals and not all(any(o in folded for o in c) for c in pattern.clauses):
            continue
        if re.compile(pattern.source).search(page) is not None:
            return True
    return False


def fold_page(page: str) -> str:
    """``page`` folded like :func:`~mediadl.engine.urlindex.fold` folds a link, where it matters:
    the ASCII substrings of both are the same.

    ``str.lower`` runs in C: a large page with non-ASCII text folds about ten times faster than
    through ``fold``'s table. It folds every character that ``re.IGNORECASE`` matches with an
    ASCII letter as ``fold`` does but three (replaced first), and makes no ASCII character of any
    other (a test checks every code point)."""
    return page.replace("\u0130", "i").replace("\u0131", "i").replace("\u017f", "s").lower()


class _LastPage:
    """The last page folded: the generic extractor asks ~100 extractors about one page in turn."""

    def __init__(self) -> None:
        self._last: tuple[str, str] = ("", "")

    def folded(self, page: str) -> str:
        last = self._last
        if last[0] is page:
            return last[1]
        folded = fold_page(page)
        self._last = (page, folded)
        return folded


_LAST = _LastPage()


# --- yt-dlp's base methods, checked on a canary ------------------------------------------------

CANARY_URL = "https://canary.invalid/post"
CANARY_EMBED = "https://player.canary.invalid/v/1"
CANARY_PAGE = (
    '<html><head><meta property="og:video" content="https://canary.invalid/a.mp4"></head><body>'
    '<video src="https://canary.invalid/b.mp4"></video>'
    '<iframe src="https://www.youtube.com/embed/BaW_jenozKc"></iframe>'
    f'<iframe class="canary" src="{CANARY_EMBED}"></iframe></body></html>'
)
CANARY_REGEX = r'<iframe class="canary" src="(?P<url>https://player\.canary\.invalid/v/\d+)"'
CANARY_VALID_URL = r"https?://(?:[\w.]+\.)?(?:canary\.invalid|youtube\.com)/"
"""The canaries take every link of the page: a base method that offered them any would show."""
_base_checked = False


def _check_base(ydl: Any) -> None:
    """Raise unless yt-dlp's base methods find an embed exactly where a pattern matches.

    An extractor without patterns must find nothing in a page full of players it would take;
    one with a pattern, only what it matches. Once per process."""
    global _base_checked  # noqa: PLW0603 - what holds for the process's life
    if _base_checked:
        return
    from yt_dlp.extractor.common import InfoExtractor

    for name in (*OWN_CODE, "_EMBED_REGEX"):
        getattr(InfoExtractor, name)  # raises when yt-dlp's base extractor has none
    takes = {"_VALID_URL": CANARY_VALID_URL}
    inert: Any = type("EmbedCanaryInertIE", (InfoExtractor,), takes)
    probe: Any = type("EmbedCanaryIE", (InfoExtractor,), {**takes, "_EMBED_REGEX": [CANARY_REGEX]})
    empty_page = CANARY_PAGE.replace('class="canary"', "")
    found = [
        [e.get("url") for e in ie.extract_from_webpage(ydl, CANARY_URL, page)]
        for ie, page in ((inert, CANARY_PAGE), (probe, empty_page), (probe, CANARY_PAGE))
    ]
    if found != [[], [], [CANARY_EMBED]]:
        raise ValueError(f"yt-dlp's base embed methods found {found!r}")
    _base_checked = True


# --- the cache -----------------------------------------------------------------------------------


def _digest(lazy: Mapping[str, type]) -> str:
    """What the records depend on: yt-dlp's version, its lazy extractors (the generated module
    that names them all), the plugins loaded."""
    from yt_dlp import version

    module = sys.modules[LAZY_MODULE]
    source = str(getattr(module, "__file__", ""))
    stat = Path(source).stat() if source else None
    text = json.dumps(
        [
            FORMAT,
            getattr(version, "__version__", ""),
            getattr(version, "RELEASE_GIT_HEAD", ""),
            source,
            (stat.st_size, stat.st_mtime_ns) if stat else None,
            _plugins(),
            bool(required_literals(CANARY)),
            len(lazy),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _plugins() -> list[str]:
    """The extractor plugins loaded and the extractors they override, by module and name."""
    from yt_dlp import globals as registry

    names = [f"{k}={getattr(v, '__module__', '')}" for k, v in registry.plugin_ies.value.items()]
    for parent, children in registry.plugin_ies_overrides.value.items():
        names += [f"{parent.__name__}+{c.__module__}.{c.__name__}" for c in children]
    return sorted(names)


def _read(path: Path) -> EmbedIndex | None:
    """The index cached at ``path``; ``None`` when missing or not what :func:`_write` writes."""
    try:
        raw = json.loads(path.read_text())
        inert, by_pattern = raw["inert"], raw["by_pattern"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not (isinstance(inert, list) and all(isinstance(n, str) for n in inert)):
        return None
    if not isinstance(by_pattern, dict):
        return None
    records: dict[str, Record] = dict.fromkeys(inert, ())
    bases: dict[str, Record] = {}
    for kept, stored in ((records, by_pattern), (bases, raw.get("bases", {}))):
        if not isinstance(stored, dict):
            return None
        for name, record in stored.items():
            if not isinstance(record, list) or not record or not all(map(_is_pattern, record)):
                return None
            kept[name] = tuple(Pattern(s, tuple(tuple(c) for c in cl)) for s, cl in record)
    return EmbedIndex(records, bases)


def _is_pattern(value: object) -> bool:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        return False
    clauses = value[1]
    return isinstance(clauses, list) and all(
        isinstance(c, list) and all(isinstance(o, str) for o in c) for c in clauses
    )


def _write(path: Path, index: EmbedIndex) -> None:
    inert = [name for name, record in index.records.items() if not record]
    by_pattern = {name: record for name, record in index.records.items() if record}
    cache = {"inert": inert, "by_pattern": by_pattern, "bases": index.bases}
    write_cache(path, cache, "embed-index")
