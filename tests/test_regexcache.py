"""Compiled regular expressions kept between runs: the same patterns, and CPython's way when not."""

from __future__ import annotations

import _sre
import marshal
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from re import _compiler, _parser  # type: ignore[attr-defined]
from typing import Any

import pytest

from mediadl import regexcache
from mediadl.engine import internals
from mediadl.regexcache import RegexCache, cache_path

ORIGINAL = _compiler.compile

PATTERNS: list[tuple[str | bytes, int]] = [
    (r"https?://(?:www\.)?example\.com/watch\?v=(?P<id>[\w-]{11})", 0),
    (r"(?x)^(?:(?P<a>a+)|b{2,5}?)(?(a)c|d)\s*$", 0),
    (r"(?<=\bid=)\d+(?!\d)|ü+", re.IGNORECASE),
    (r"^(\w+)\s+\1$", re.MULTILINE | re.ASCII),
    (rb"[\x00-\x1f]+|\bend\b", 0),
    (r"(?s)<script[^>]*>(?P<body>.*?)</script>", 0),
]
SAMPLES = [
    "https://www.example.com/watch?v=dQw4w9WgXcQ",
    "aaac",
    "bbbd  ",
    "x?id=1234&ÜÜ",
    "hey hey\nno no",
    "<script type=x>var a = 1;</script>",
]


def unique(tag: str) -> list[tuple[str | bytes, int]]:
    """``PATTERNS``, each made new to ``re``'s in-process cache (which answers before ours)."""
    out: list[tuple[str | bytes, int]] = []
    for pattern, flags in PATTERNS:
        mark = f"(?:{tag})?" if isinstance(pattern, str) else f"(?:{tag})?".encode()
        out.append((pattern + mark, flags))  # type: ignore[operator]
    return out


def cache_at(folder: Path) -> RegexCache:
    return RegexCache(cache_path(folder), _compiler, _parser, _sre)


def behaviour(compiled: re.Pattern[Any]) -> list[Any]:
    found = []
    for sample in SAMPLES:
        text: Any = sample.encode() if isinstance(compiled.pattern, bytes) else sample
        found.append([(m.span(), m.groups(), m.groupdict()) for m in compiled.finditer(text)])
    return found


@pytest.fixture
def process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The module's process-wide state and CPython's compiler, put back after the test."""
    monkeypatch.setattr(regexcache, "_active", None)
    monkeypatch.setattr(regexcache, "_problem", None)
    monkeypatch.setattr(regexcache, "_reported", False)
    with internals.isolated():
        yield
    _compiler.compile = ORIGINAL


def test_a_kept_pattern_is_the_pattern_cpython_compiles(tmp_path: Path) -> None:
    patterns = unique("kept")
    first = cache_at(tmp_path)
    compiled = [first.compile(p, f) for p, f in patterns]
    assert (first.hits, first.misses) == (0, len(patterns))
    first.save(worth=1)

    second = cache_at(tmp_path)
    again = [second.compile(p, f) for p, f in patterns]
    assert (second.hits, second.misses) == (len(patterns), 0)
    for (pattern, flags), ours, kept in zip(patterns, compiled, again, strict=True):
        theirs = ORIGINAL(pattern, flags)
        assert ours == theirs and kept == theirs, pattern
        assert (kept.groups, kept.groupindex, kept.flags) == (
            theirs.groups,
            theirs.groupindex,
            theirs.flags,
        )
        assert behaviour(kept) == behaviour(theirs)
    assert behaviour(again[0])[0] == [((0, 43), ("dQw4w9WgXcQ",), {"id": "dQw4w9WgXcQ"})]


def test_a_run_with_few_new_patterns_leaves_the_file_alone(tmp_path: Path) -> None:
    cache = cache_at(tmp_path)
    for pattern, flags in unique("few")[:2]:
        cache.compile(pattern, flags)
    cache.save(worth=3)
    assert not cache.path.exists()
    cache.compile(*unique("few")[2])
    cache.save(worth=3)
    assert len(cache_at(tmp_path).kept) == 3


def test_the_patterns_last_used_are_kept_first_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(regexcache, "MAX_ENTRIES", 3)
    old = unique("old")[:3]
    first = cache_at(tmp_path)
    for pattern, flags in old:
        first.compile(pattern, flags)
    first.save(worth=1)

    second = cache_at(tmp_path)
    second.compile(*old[2])
    new = unique("new")[:2]
    for pattern, flags in new:
        second.compile(pattern, flags)
    second.save(worth=1)
    assert list(cache_at(tmp_path).kept) == [old[2], *new]


def test_a_damaged_file_or_another_pythons_is_not_read(tmp_path: Path) -> None:
    path = cache_path(tmp_path)
    path.write_bytes(b"\x00not marshal at all")
    cache = cache_at(tmp_path)
    assert cache.kept == {}
    pattern, flags = unique("damaged")[0]
    assert cache.compile(pattern, flags) == ORIGINAL(pattern, flags)

    entry = cache.used[(pattern, flags)]
    other = (regexcache.FORMAT, "2.7.18 (elsewhere)", *regexcache.header()[2:])
    path.write_bytes(marshal.dumps((other, {(pattern, flags): entry})))
    assert cache_at(tmp_path).kept == {}
    path.write_bytes(marshal.dumps((regexcache.header(), {(pattern, flags): entry})))
    assert cache_at(tmp_path).kept == {(pattern, flags): entry}


@pytest.mark.parametrize("loose", ["file", "folder"])
def test_a_file_others_could_write_is_not_read(tmp_path: Path, loose: str) -> None:
    cache = cache_at(tmp_path)
    cache.compile(*unique("loose")[0])
    cache.save(worth=1)
    assert cache_at(tmp_path).kept
    (cache.path if loose == "file" else tmp_path).chmod(0o666 if loose == "file" else 0o777)
    assert cache_at(tmp_path).kept == {}


def test_an_entry_the_regex_engine_refuses_is_compiled_again(tmp_path: Path) -> None:
    pattern, flags = unique("refused")[0]
    cache = cache_at(tmp_path)
    cache.compile(pattern, flags)
    entry = cache.used[(pattern, flags)]
    broken = (entry[0], b"\xff\xff\xff\x7f" * 8, *entry[2:])
    cache.path.write_bytes(marshal.dumps((regexcache.header(), {(pattern, flags): broken})))

    again = cache_at(tmp_path)
    assert again.compile(pattern, flags) == ORIGINAL(pattern, flags)
    assert (again.hits, again.misses) == (0, 1)
    assert again.used[(pattern, flags)] == entry


@pytest.mark.usefixtures("process_state")
def test_install_serves_res_compiles_and_settle_reports_it(tmp_path: Path) -> None:
    cache = regexcache.install(tmp_path)
    assert cache is not None and _compiler.compile == cache.compile
    pattern, flags = unique("installed")[0]
    assert re.compile(pattern, flags) == ORIGINAL(pattern, flags)
    assert (pattern, flags) in cache.used
    regexcache.settle()
    found = {i.name: i for i in internals.report()}[regexcache.INTERNAL]
    assert found.state == "active"


@pytest.mark.usefixtures("process_state")
def test_the_disable_internals_setting_gives_cpython_its_compiler_back(tmp_path: Path) -> None:
    assert regexcache.install(tmp_path) is not None
    internals.disable([regexcache.INTERNAL])
    regexcache.settle()
    assert _compiler.compile is ORIGINAL and regexcache.active() is None
    pattern, flags = unique("disabled")[0]
    assert re.compile(pattern, flags) == ORIGINAL(pattern, flags)


@pytest.mark.usefixtures("process_state")
@pytest.mark.parametrize("change", ["missing", "different"])
def test_changed_internals_leave_cpythons_compiler_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    with monkeypatch.context() as changed:
        if change == "missing":
            changed.delattr(_compiler, "_code")
        else:  # CPython's compile does more than the steps the cache records
            changed.setattr(_compiler, "compile", lambda p, f=0: ORIGINAL(p, f | re.IGNORECASE))
        assert regexcache.install(tmp_path) is None
    assert _compiler.compile is ORIGINAL
    pattern, flags = unique(change)[0]
    assert re.compile(pattern, flags) == ORIGINAL(pattern, flags)
    regexcache.settle()
    found = {i.name: i for i in internals.report()}[regexcache.INTERNAL]
    assert found.state == "fallback"
    assert found.reason and ("_code" in found.reason or "compiles differently" in found.reason)


COUNT = """
import sys
from pathlib import Path
from mediadl import regexcache
cache = regexcache.install(Path(sys.argv[1]))
import yt_dlp  # compiles a few hundred patterns at import
print(cache.hits, cache.misses)
regexcache.save()
"""


def test_a_second_process_takes_yt_dlps_patterns_from_the_first(tmp_path: Path) -> None:
    def run() -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", COUNT, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        hits, misses = map(int, done.stdout.split())
        return hits, misses

    hits, misses = run()
    assert hits == 0 and misses > 100
    hits, misses = run()
    assert hits > 100 and misses < regexcache.WORTH_SAVING


def test_the_command_line_keeps_its_patterns_in_the_data_folder(tmp_path: Path) -> None:
    env = {**os.environ, "MEDIADL_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "mediadl", "sites", "--match", "https://vimeo.com/76979871"]
    first = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert first.returncode == 0, first.stderr
    kept = cache_at(tmp_path / "data" / "cache").kept
    assert len(kept) > 100
    second = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert (second.returncode, second.stdout) == (0, first.stdout)
    assert "Vimeo" in second.stdout
