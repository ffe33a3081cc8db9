"""Which extractor takes a link, without compiling 1,750 URL patterns first.

yt-dlp finds the extractor for a link by asking each one in turn whether its ``_VALID_URL`` matches,
which compiles every pattern on the first link of a process: about a quarter of a second, paid by
every ``mediadl get`` (the service's warm extraction processes have them compiled already).

Most patterns name their site: ``https?://(?:www\\.)?vimeo\\.com/…`` can only match a link that
contains ``vimeo.com/``. :func:`required_literals` reads a pattern's parse tree and lists such
necessary substrings, as clauses that must all hold, each satisfied by any of its options (one per
alternative of ``(?:a|b)``). They are necessary, never sufficient: a link that has them still goes
to the extractor's own ``suitable``, so :func:`first_suitable` answers exactly what yt-dlp's loop
would, only sooner. An extractor with its own ``suitable`` is indexed too when that method can only
say yes through the pattern's match (``False if OtherIE.suitable(url) else super().suitable(url)``;
:mod:`mediadl.engine.suitable` reads its source); one with other logic, several patterns we can't
read, or anything else unusual is always asked.

The clauses of all extractors are cached on disk under a digest of every pattern, so a new yt-dlp
rebuilds them once (about 0.15 s).

Reading patterns leans on two private internals (:mod:`mediadl.engine.internals`): CPython's regex
parser (``re._parser``, ``re._constants``), checked on a known pattern before use, and yt-dlp's
``_VALID_URL`` with its default ``suitable``. Without either there is no index: every extractor is
asked, as yt-dlp does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from mediadl.engine.internals import declare
from mediadl.engine.suitable import base_method, default_suitable, fingerprint, needs_own_match

__all__ = [
    "RE_PARSER",
    "VALID_URL",
    "UrlIndex",
    "first_suitable",
    "fold",
    "required_literals",
    "write_cache",
]

log = logging.getLogger("mediadl.ytdl")

FORMAT = 3
"""Bump when the analysis changes: it is part of the cache's digest."""
MIN_LITERAL = 3
"""Shorter substrings (``/``, ``.``) are in nearly every link: not worth a check."""

Clause = tuple[str, ...]
"""Any one of these substrings must be in the (folded) link."""
Requirement = tuple[tuple[Clause, ...], ...]
"""One conjunction of clauses per pattern; the extractor may match if any pattern's holds."""
Patterns = tuple[tuple[str, ...], str]
"""An extractor's URL patterns and the fingerprint of its own ``suitable`` code (or ``""``)."""

RE_PARSER = declare(
    "re._parser",
    purpose="the URL index reads which substrings each extractor's URL pattern needs, so a link "
    "is offered only to the extractors that may take it",
    fallback="no URL index: every extractor is asked in turn, as yt-dlp does",
)
VALID_URL = declare(
    "yt_dlp.InfoExtractor._VALID_URL",
    purpose="the URL patterns the URL index reads, of the extractors whose suitable() is that "
    "match (_match_valid_url), alone or with more conditions",
    fallback="no URL index: every extractor is asked in turn, as yt-dlp does",
)

CANARY = r"https?://(?:www\.)?(?:example|sample)\.com/v(?:ideo)?/(?P<id>\d+)"
CANARY_CLAUSES = (("http",), ("://",), ("example.com/v", "sample.com/v"), (".com/v",))
"""A pattern and what the analysis must find in it: the parser is checked on it before use."""


class _Grammar(NamedTuple):
    """The parts of CPython's regex parser the analysis reads."""

    parse: Callable[[str], Any]
    literal: Any
    subpattern: Any
    atomic_group: Any
    branch: Any
    repeats: tuple[Any, ...]


def _grammar() -> _Grammar | None:
    """CPython's regex parser, checked on :data:`CANARY`; ``None`` when missing or changed."""
    if not RE_PARSER.usable():
        return None
    try:
        from re import _constants as sre  # type: ignore[attr-defined]
        from re import _parser as sre_parse  # type: ignore[attr-defined]

        grammar = _Grammar(
            sre_parse.parse,
            sre.LITERAL,
            sre.SUBPATTERN,
            sre.ATOMIC_GROUP,
            sre.BRANCH,
            (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT),
        )
        found = _analysis(grammar, CANARY)
        if found != CANARY_CLAUSES:
            raise ValueError(f"reads {CANARY!r} as {found!r}")  # noqa: TRY301 - one fallback
    except Exception as exc:  # noqa: BLE001 - a changed parser fails in any way
        RE_PARSER.fell_back(exc)
        return None
    RE_PARSER.worked()
    return grammar


_FOLD = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"} | {
    0x0130: "i",  # İ: re's IGNORECASE matches it with i
    0x0131: "i",  # ı
    0x017F: "s",  # ſ (long s)
    0x212A: "k",  # K (Kelvin sign)
}
"""Folds every character that ``re.IGNORECASE`` matches with an ASCII letter onto that letter.

Literals are kept only while ASCII and folded the same way, so "the folded link contains the
folded literal" holds whenever the pattern matches, with or without IGNORECASE (a test checks this
table against every code point)."""


def fold(text: str) -> str:
    return text.translate(_FOLD)


def required_literals(pattern: str) -> tuple[Clause, ...]:
    """Substring clauses every string ``re.match(pattern, s)`` accepts must satisfy.

    Without CPython's regex parser nothing is known to be required: ``()``.
    """
    grammar = _grammar()
    return _analysis(grammar, pattern) if grammar else ()


def _analysis(grammar: _Grammar, pattern: str) -> tuple[Clause, ...]:
    return tuple(dict.fromkeys(_clauses(grammar, grammar.parse(pattern))))


def _clauses(
    g: _Grammar, sequence: Iterable[tuple[Any, Any]], before: str = "", after: str = ""
) -> list[Clause]:
    """The clauses of ``sequence``, which the literal text ``before`` and ``after`` surround.

    The surrounding text joins the sequence's own first and last literals: in
    ``/(?:videos|w)/`` each branch is read as ``/videos/`` or ``/w/``, where the branch ``w``
    alone is too short to be worth a check. Only a group or a branch, which match once, is read
    with what surrounds it; a repeated part is read alone (``(?:ab)+c`` doesn't hold ``abc``
    after its first ``ab``).
    """
    items = list(sequence)
    clauses: list[Clause] = []
    run: list[str] = list(before)

    def flush(tail: str = "") -> None:
        text = "".join(run) + tail
        if len(text) >= MIN_LITERAL:
            clauses.append((text,))
        run.clear()

    for i, (op, arg) in enumerate(items):
        if _ascii_literal(g, op, arg):
            run.append(fold(chr(arg)))
            continue
        lead, follow = "".join(run), _literal_run(g, items, i + 1, after)
        flush()
        if op is g.subpattern:
            clauses += _clauses(g, arg[3], lead, follow)
        elif op is g.atomic_group:
            clauses += _clauses(g, arg, lead, follow)
        elif op in g.repeats and arg[0] >= 1:
            clauses += _clauses(g, arg[2])
        elif op is g.branch:
            clause = _any_of([_clauses(g, branch, lead, follow) for branch in arg[1]])
            if clause:
                clauses.append(clause)
        # anything else (classes, anchors, lookarounds, optional parts) requires nothing
    flush(after)
    return clauses


def _ascii_literal(g: _Grammar, op: Any, arg: Any) -> bool:
    return op is g.literal and arg < 0x80


def _literal_run(g: _Grammar, items: list[tuple[Any, Any]], start: int, after: str) -> str:
    """The literal text that follows ``items[start - 1]``: the literals from ``start`` on, and
    ``after`` too when they reach the sequence's end."""
    text: list[str] = []
    for op, arg in items[start:]:
        if not _ascii_literal(g, op, arg):
            return "".join(text)
        text.append(fold(chr(arg)))
    return "".join(text) + after


def _any_of(branches: list[list[Clause]]) -> Clause:
    """One clause for an alternation: from each branch its most selective clause's options."""
    options: list[str] = []
    for clauses in branches:
        if not clauses:
            return ()  # this branch requires nothing, so the alternation doesn't either
        options += max(clauses, key=lambda c: min(map(len, c)))
    return tuple(dict.fromkeys(options))


def _may_match(requirement: Requirement, folded: str) -> bool:
    return any(
        all(any(option in folded for option in clause) for clause in clauses)
        for clauses in requirement
    )


class UrlIndex:
    """The requirements of the extractors that use yt-dlp's default ``suitable``."""

    def __init__(self, requirements: Mapping[str, Requirement]) -> None:
        self.requirements = dict(requirements)

    @classmethod
    def build(cls, ies: Mapping[str, Any]) -> UrlIndex:
        """The index of ``ies``; empty (every extractor is asked) without the internals it reads."""
        grammar = _grammar()
        return cls._analyse(grammar, _patterns(ies), ies) if grammar else cls({})

    @classmethod
    def _analyse(
        cls, grammar: _Grammar, patterns: Mapping[str, Patterns], ies: Mapping[str, Any]
    ) -> UrlIndex:
        found: dict[str, Requirement] = {}
        for key, (own, _code) in patterns.items():
            with contextlib.suppress(Exception):  # unreadable: that extractor is always asked
                if default_suitable(ies[key]) or needs_own_match(ies[key]):
                    found[key] = tuple(_analysis(grammar, p) for p in own)
        return cls(found)

    @classmethod
    def load(cls, ies: Mapping[str, Any], cache_dir: Path | None) -> UrlIndex:
        """The index for ``ies``, from ``cache_dir`` when it was built for the same patterns.

        Within a process the same extractor classes give the same index: it is kept, so each
        extraction after the first pays neither the digest nor the file. Without the internals
        it reads, the index is empty: every extractor is asked.
        """
        grammar = _grammar()
        if grammar is None or not VALID_URL.usable():
            return cls({})
        classes = tuple(ie for ie in ies.values() if isinstance(ie, type))
        if (index := _MEMO.get(classes)) is not None:
            return index
        patterns = _patterns(ies)
        if not patterns:
            return cls({})
        digest = _digest(patterns)
        path = cache_dir / f"url-index-{digest[:16]}.json" if cache_dir else None
        index = _read(path) if path else None
        if index is None:
            index = cls._analyse(grammar, patterns, ies)
            if path:
                _write(path, index)
        _MEMO.clear()
        _MEMO[classes] = index
        return index

    def candidates(self, key: str, folded: str) -> bool:
        """False only when extractor ``key`` surely doesn't match the folded link."""
        requirement = self.requirements.get(key)
        return requirement is None or _may_match(requirement, folded)


_MEMO: dict[tuple[type, ...], UrlIndex] = {}


def first_suitable(ies: Mapping[str, Any], url: str, index: UrlIndex) -> str | None:
    """The key of the first extractor in ``ies`` that takes ``url``: yt-dlp's own answer."""
    folded = fold(url)
    for key, ie in ies.items():
        if index.candidates(key, folded) and ie.suitable(url):
            return key
    return None


def _patterns(ies: Mapping[str, Any]) -> dict[str, Patterns]:
    """The ``_VALID_URL`` patterns of the extractors whose ``suitable`` may lean on that match,
    each with a fingerprint of its own ``suitable`` methods' code (empty for yt-dlp's), so the
    cache's digest changes with them (:meth:`UrlIndex._analyse` reads them).

    Empty when yt-dlp's base extractor no longer works that way: every extractor is asked.
    """
    return VALID_URL.run(lambda: _read_patterns(ies), dict)


def _read_patterns(ies: Mapping[str, Any]) -> dict[str, Patterns]:
    from yt_dlp.extractor.common import InfoExtractor

    for name in _BASE_NAMES:
        if name not in vars(InfoExtractor):
            raise AttributeError(f"yt-dlp's InfoExtractor has no {name}")
    found: dict[str, Patterns] = {}
    for key, ie in ies.items():
        if not isinstance(ie, type) or not base_method(ie, "_match_valid_url"):
            continue
        value = _own(ie, "_VALID_URL")
        patterns = (value,) if isinstance(value, str) else value
        if (
            isinstance(patterns, (tuple, list))
            and patterns
            and all(isinstance(p, str) for p in patterns)
        ):
            found[key] = (tuple(patterns), fingerprint(ie))
    return found


_BASE_NAMES = ("_VALID_URL", "_match_valid_url", "suitable")
"""What yt-dlp's default ``suitable`` is made of: the base extractor must still define them."""


def _own(ie: type, name: str) -> object:
    """A class attribute through the MRO, without the lazy classes' load-on-miss ``__getattr__``."""
    for klass in ie.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _digest(patterns: Mapping[str, Patterns]) -> str:
    text = json.dumps([FORMAT, MIN_LITERAL, sorted(patterns.items())], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path) -> UrlIndex | None:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    return UrlIndex(
        {
            key: tuple(tuple(tuple(clause) for clause in clauses) for clauses in value)
            for key, value in raw.items()
        }
    )


def _write(path: Path, index: UrlIndex) -> None:
    write_cache(path, index.requirements, "url-index")


def write_cache(path: Path, data: object, stem: str) -> None:
    """``data`` as JSON at ``path`` (``<stem>-<key>.json``), atomically, and the files of a
    former yt-dlp's key removed; a folder we can't write to only means building it again."""
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{stem}-")
        temp = Path(name)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, separators=(",", ":"))
        temp.replace(path)
        for old in path.parent.glob(f"{stem}-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("can't cache %s in %s: %s", stem, path.parent, exc)
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
