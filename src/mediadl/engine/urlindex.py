"""Which extractor takes a link, without compiling 1,750 URL patterns first.

yt-dlp finds the extractor for a link by asking each one in turn whether its ``_VALID_URL`` matches,
which compiles every pattern on the first link of a process: about a quarter of a second, paid by
every ``mediadl get`` (the service's warm extraction processes have them compiled already).

Most patterns name their site: ``https?://(?:www\\.)?vimeo\\.com/…`` can only match a link that
contains ``vimeo.com/``. :func:`required_literals` reads a pattern's parse tree and lists such
necessary substrings, as clauses that must all hold, each satisfied by any of its options (one per
alternative of ``(?:a|b)``). They are necessary, never sufficient: a link that has them still goes
to the extractor's own ``suitable``, so :func:`first_suitable` answers exactly what yt-dlp's loop
would, only sooner. Extractors with their own ``suitable`` logic, several patterns we can't read,
or anything else unusual are always asked.

The clauses of all extractors are cached on disk under a digest of every pattern, so a new yt-dlp
rebuilds them once (about 0.15 s).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = ["UrlIndex", "first_suitable", "fold", "required_literals"]

log = logging.getLogger("mediadl.ytdl")

FORMAT = 1
"""Bump when the analysis changes: it is part of the cache's digest."""
MIN_LITERAL = 3
"""Shorter substrings (``/``, ``.``) are in nearly every link: not worth a check."""

Clause = tuple[str, ...]
"""Any one of these substrings must be in the (folded) link."""
Requirement = tuple[tuple[Clause, ...], ...]
"""One conjunction of clauses per pattern; the extractor may match if any pattern's holds."""

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
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
    """Substring clauses every string ``re.match(pattern, s)`` accepts must satisfy."""
    return tuple(dict.fromkeys(_clauses(sre_parse.parse(pattern))))


def _clauses(sequence: Iterable[tuple[Any, Any]]) -> list[Clause]:
    clauses: list[Clause] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= MIN_LITERAL:
            clauses.append(("".join(run),))
        run.clear()

    for op, arg in sequence:
        if op is sre.LITERAL and arg < 0x80:
            run.append(fold(chr(arg)))
            continue
        flush()
        if op is sre.SUBPATTERN:
            clauses += _clauses(arg[3])
        elif op is sre.ATOMIC_GROUP:
            clauses += _clauses(arg)
        elif op in _REPEATS and arg[0] >= 1:
            clauses += _clauses(arg[2])
        elif op is sre.BRANCH:
            clause = _any_of([_clauses(branch) for branch in arg[1]])
            if clause:
                clauses.append(clause)
        # anything else (classes, anchors, lookarounds, optional parts) requires nothing
    flush()
    return clauses


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
        return cls._analyse(_patterns(ies))

    @classmethod
    def _analyse(cls, patterns: Mapping[str, tuple[str, ...]]) -> UrlIndex:
        found: dict[str, Requirement] = {}
        for key, own in patterns.items():
            with contextlib.suppress(Exception):  # unreadable: that extractor is always asked
                found[key] = tuple(required_literals(p) for p in own)
        return cls(found)

    @classmethod
    def load(cls, ies: Mapping[str, Any], cache_dir: Path | None) -> UrlIndex:
        """The index for ``ies``, from ``cache_dir`` when it was built for the same patterns.

        Within a process the same extractor classes give the same index: it is kept, so each
        extraction after the first pays neither the digest nor the file.
        """
        classes = tuple(ie for ie in ies.values() if isinstance(ie, type))
        if (index := _MEMO.get(classes)) is not None:
            return index
        patterns = _patterns(ies)
        digest = _digest(patterns)
        path = cache_dir / f"url-index-{digest[:16]}.json" if cache_dir else None
        index = _read(path) if path else None
        if index is None:
            index = cls._analyse(patterns)
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


def _patterns(ies: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The ``_VALID_URL`` patterns of the extractors whose ``suitable`` is only that match."""
    found: dict[str, tuple[str, ...]] = {}
    for key, ie in ies.items():
        if not isinstance(ie, type) or not _default_suitable(ie):
            continue
        value = _own(ie, "_VALID_URL")
        patterns = (value,) if isinstance(value, str) else value
        if (
            isinstance(patterns, (tuple, list))
            and patterns
            and all(isinstance(p, str) for p in patterns)
        ):
            found[key] = tuple(patterns)
    return found


def _default_suitable(ie: type) -> bool:
    """Whether ``suitable`` and ``_match_valid_url`` are yt-dlp's (lazy or real) base versions."""
    for name in ("suitable", "_match_valid_url"):
        owner = next((k for k in ie.__mro__ if name in k.__dict__), None)
        if owner is None or owner.__name__ not in {"InfoExtractor", "LazyLoadExtractor"}:
            return False
    return True


def _own(ie: type, name: str) -> object:
    """A class attribute through the MRO, without the lazy classes' load-on-miss ``__getattr__``."""
    for klass in ie.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _digest(patterns: Mapping[str, tuple[str, ...]]) -> str:
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
    """Atomically; a folder we can't write to only means building it again next time."""
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".url-index-")
        temp = Path(name)
        with os.fdopen(fd, "w") as out:
            json.dump(index.requirements, out, separators=(",", ":"))
        temp.replace(path)
        for old in path.parent.glob("url-index-*.json"):  # a former yt-dlp's
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("can't cache the URL index in %s: %s", path.parent, exc)
        if temp is not None:
            temp.unlink(missing_ok=True)
