"""Compiled regular expressions kept between runs of the command line.

A ``mediadl get`` compiles about 500 regular expressions before its first media request: yt-dlp's
and pydantic's at import, the URL patterns of the extractors a link is offered to (YouTube's alone
takes ~25 ms), the generic extractor's on the page. CPython keeps compiled patterns only for the
life of a process, so every run paid that again: ~65 ms of the ~0.5 s before the page's request,
~0.1 s before the first media request.

:func:`install`, called before anything else is imported, puts :class:`RegexCache` in front of
CPython's compiler (``re._compiler.compile``, which ``re``'s own in-process cache calls on a
miss). A pattern compiled once is kept in ``<data_dir>/cache/regex-<python>.marshal`` as what the
compiler produced for the regex engine (its code, flags and groups); the next run hands that to
``_sre.compile`` directly, skipping the parser and the code generator. The regex engine checks
any code it is given, and a file is only read when it was written by this Python and is the
user's own (no one else can write to it or its folder), since a pattern's code decides what the
pattern matches.

This leans on CPython internals (``re._parser.parse``, ``re._compiler._code``, ``_sre.compile``),
declared like the others (:mod:`mediadl.engine.internals`, ``disable_internals``; the registry
hears of it with a process's first ``YoutubeDL``, :func:`settle`). Before use, :func:`install`
compiles a few patterns both ways and requires equal results; when anything is missing or
different, CPython's compiler is left alone and nothing is kept between runs.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import sys
import threading
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "INTERNAL",
    "MAX_ENTRIES",
    "WORTH_SAVING",
    "RegexCache",
    "active",
    "install",
    "save",
    "settle",
    "uninstall",
]

INTERNAL = "re._compiler.compile"
PURPOSE = (
    "the command line keeps the compiled form of the ~500 regular expressions a download "
    "compiles (yt-dlp's, the URL patterns a link is offered to, the generic extractor's) in its "
    "cache folder, so the next run skips CPython's regex parser and compiler for them"
)
FALLBACK = "CPython's own compiler: every run compiles its regular expressions again"

MAX_ENTRIES = 3000
"""Patterns kept at most, the most recently used first (~1 KB each on disk)."""
WORTH_SAVING = 16
"""New patterns that pay for writing the file again (~4 ms for 600 patterns). Every run compiles
a few new ones (built from a set, whose order changes with each process's hash seed): those
alone don't rewrite it."""
FORMAT = 1
CANARIES = (
    r"https?://(?:www\.)?(?P<host>[^/]+)/v(?:ideo)?/(?P<id>\d+)(?:[?#]|$)",
    r"(?x)^(?:(?P<a>a+)|b{2,5}?)(?(a)c|d)\s*$",
    rb"(?i)[\x00-\x1f]+|\bend\b",
)
"""Compiled both ways by :func:`install`: the results must be equal."""

Entry = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...]]
"""What ``_sre.compile`` takes after the pattern: flags, the code (array ``I`` as bytes),
groups, group names to numbers, numbers to names."""
Key = tuple[str | bytes, int]


class RegexCache:
    """Compiled patterns read from ``path`` and those compiled since, for :meth:`save`."""

    def __init__(self, path: Path, compiler: Any, parser: Any, sre: Any) -> None:
        self.path = path
        self._compiler, self._parser, self._sre = compiler, parser, sre
        self.original: Callable[..., re.Pattern[Any]] = compiler.compile
        self.kept: dict[Key, Entry] = _read(path)
        self.used: dict[Key, Entry] = {}
        """Patterns this process compiled, read or new, in order: kept first by :meth:`save`."""
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def compile(self, pattern: Any, flags: int = 0) -> re.Pattern[Any]:
        """``re._compiler.compile``'s answer: from the kept code, else compiled and recorded."""
        if not isinstance(pattern, (str, bytes)) or flags & re.DEBUG:
            return self.original(pattern, flags)
        key = (pattern, int(flags))
        entry = self.kept.get(key)
        if entry is not None:
            try:
                compiled = self._build(pattern, entry)
            except Exception:  # noqa: BLE001 - a damaged entry: the regex engine refused it
                self.kept.pop(key, None)
            else:
                self.hits += 1
                self.used[key] = entry
                return compiled
        compiled, entry = self.record(pattern, int(flags))
        self.misses += 1
        if len(self.used) < MAX_ENTRIES:  # a long-lived server's patterns made from input
            self.used[key] = entry
        return compiled

    def record(self, pattern: str | bytes, flags: int) -> tuple[re.Pattern[Any], Entry]:
        """Compile as ``re._compiler.compile`` does, keeping what the regex engine was given."""
        parsed = self._parser.parse(pattern, flags)
        code = array("I", self._compiler._code(parsed, flags)).tobytes()
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, number in groupindex.items():
            indexgroup[number] = name
        entry: Entry = (
            int(flags | parsed.state.flags),
            code,
            parsed.state.groups - 1,
            groupindex,
            tuple(indexgroup),
        )
        return self._build(pattern, entry), entry

    def _build(self, pattern: str | bytes, entry: Entry) -> re.Pattern[Any]:
        flags, code, groups, groupindex, indexgroup = entry
        ints = array("I")
        ints.frombytes(code)
        compiled: re.Pattern[Any] = self._sre.compile(
            pattern, flags, ints.tolist(), groups, groupindex, indexgroup
        )
        return compiled

    def save(self, worth: int = WORTH_SAVING) -> None:
        """Write the patterns used in this run, then the others kept, up to :data:`MAX_ENTRIES`,
        when this run compiled at least ``worth`` new ones; an unwritable folder only means
        compiling again."""
        with self._lock:
            if self.misses < max(1, worth):
                return
            merged = dict(self.used)  # copies (other threads may still compile)
            for key, entry in list(self.kept.items()):
                if len(merged) >= MAX_ENTRIES:
                    break
                merged.setdefault(key, entry)
            while len(merged) > MAX_ENTRIES:
                merged.popitem()
            _write(self.path, merged)
            self.kept, self.misses = merged, 0


_active: RegexCache | None = None
_problem: str | None = None
"""Why :func:`install` left CPython's compiler alone (``None``: not tried, or installed)."""
_reported = False


def header() -> tuple[Any, ...]:
    """What a kept file must have been written by: this Python and regex engine."""
    import _sre  # type: ignore[import-not-found]

    return (FORMAT, sys.version, _sre.MAGIC, _sre.CODESIZE, sys.byteorder, array("I").itemsize)


def cache_path(folder: Path) -> Path:
    return folder / f"regex-{sys.implementation.cache_tag}.marshal"


def install(folder: Path) -> RegexCache | None:
    """Serve this process's regex compiles from ``folder``'s kept patterns (see the module).

    ``None``, and CPython's compiler untouched, when its internals are missing or compile
    differently from the way :class:`RegexCache` reads them.
    """
    global _active, _problem  # noqa: PLW0603 - one compiler per process
    if _active is not None:
        return _active
    try:
        import _sre
        from re import _compiler, _parser  # type: ignore[attr-defined]

        cache = RegexCache(cache_path(folder), _compiler, _parser, _sre)
        _check(cache)
    except Exception as exc:  # noqa: BLE001 - a changed internal fails in any way
        _problem = f"{type(exc).__name__}: {exc}"
        return None
    _compiler.compile = cache.compile
    _active = cache
    return cache


def _check(cache: RegexCache) -> None:
    if array("I").itemsize != cache._sre.CODESIZE:
        raise ValueError(f"the regex engine's code unit is {cache._sre.CODESIZE} bytes")
    for pattern in CANARIES:
        ours, _ = cache.record(pattern, 0)
        theirs = cache.original(pattern, 0)
        same = (ours.groups, ours.groupindex, ours.flags) == (
            theirs.groups,
            theirs.groupindex,
            theirs.flags,
        )
        if ours != theirs or not same:
            raise ValueError(f"{pattern!r} compiles differently")


def active() -> RegexCache | None:
    return _active


def uninstall() -> None:
    """CPython's compiler again; what was compiled stays compiled (the patterns are equal)."""
    global _active
    cache, _active = _active, None
    if cache is not None:
        cache._compiler.compile = cache.original


def save() -> None:
    """Keep what this run compiled (the command line calls it as it exits)."""
    if _active is not None:
        _active.save()


def settle() -> None:
    """Tell the internals registry how the cache fares, and leave CPython's compiler in place
    when the ``disable_internals`` setting (applied just before) names it.

    Called by every new ``YoutubeDL``: cheap after the first.
    """
    global _reported  # noqa: PLW0603
    from mediadl.engine import internals

    internal = internals.declare(INTERNAL, PURPOSE, FALLBACK)
    if not internal.usable():
        uninstall()
        return
    if _reported:
        return
    _reported = True
    if _active is not None:
        internal.worked()
    elif _problem is not None:
        internal.fell_back(_problem)


def _read(path: Path) -> dict[Key, Entry]:
    """The kept patterns; nothing from a file someone else could have written, or a damaged one."""
    try:
        with path.open("rb") as f:
            if not _own_and_private(os.fstat(f.fileno())) or not _own_and_private(
                path.parent.stat()
            ):
                return {}
            raw = marshal.load(f)  # noqa: S302 - our own file, of this user only (above)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not (isinstance(raw, tuple) and len(raw) == 2 and raw[0] == header()):
        return {}
    entries = raw[1]
    return entries if isinstance(entries, dict) else {}


def _own_and_private(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _write(path: Path, entries: dict[Key, Entry]) -> None:
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            marshal.dump((header(), entries), out)
        temp.replace(path)
        temp = None
    except (OSError, ValueError):
        pass
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
