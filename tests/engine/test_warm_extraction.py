"""What the extraction forkserver pays once for every extraction forked from it, beyond patterns
and TLS (test_warm_state.py): ffmpeg's and ffprobe's versions, one whole extraction of a page
held in memory, the site extractors' modules. Each private internal has a fallback that gives a
working, if slower, extraction; the canned page never leaves the process."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor

from mediadl.engine import ffmpeg_versions, internals
from mediadl.engine.ffmpeg_versions import VERSIONS, check_versions, warm_versions
from mediadl.engine.lookup import keep_patterns
from mediadl.engine.sandbox import CHILD_MODULE, WARM_MODULE, preload
from mediadl.engine.warm_page import PAGE_URL, warm_page
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings
from mediadl.sites import extractors


@pytest.fixture
def fresh_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """yt-dlp's version caches and what was warmed, empty, and put back afterwards."""
    monkeypatch.setattr(FFmpegPostProcessor, "_version_cache", {None: None})
    monkeypatch.setattr(FFmpegPostProcessor, "_features_cache", {})
    monkeypatch.setattr(ffmpeg_versions, "_warmed", {})


def merges(settings: Settings) -> bool:
    with new_ydl(settings, cookies=()) as ydl:
        merger = FFmpegPostProcessor(ydl)
        return bool(merger.available)


@pytest.mark.usefixtures("fresh_versions")
def test_ffmpeg_is_asked_once_and_its_answer_kept(settings: Settings) -> None:
    with internals.isolated(), new_ydl(settings, cookies=()) as ydl:
        warm_versions(ydl)
        assert VERSIONS.state == "active"
    assert FFmpegPostProcessor._version_cache["ffmpeg"]  # a version, kept per program
    kept = dict(FFmpegPostProcessor._version_cache)
    assert merges(settings)  # a later YoutubeDL merges with the kept answer
    assert FFmpegPostProcessor._version_cache == kept


@pytest.mark.usefixtures("fresh_versions")
def test_a_path_finding_another_ffmpeg_forgets_the_kept_version(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with internals.isolated(), new_ydl(settings, cookies=()) as ydl:
        warm_versions(ydl)
    other = tmp_path / "ffmpeg"
    other.write_text("#!/bin/sh\necho 'ffmpeg version 1.0-other'\n")
    other.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    check_versions()
    assert "ffmpeg" not in FFmpegPostProcessor._version_cache  # asked again, of the other one
    assert "ffprobe" in FFmpegPostProcessor._version_cache  # still the same program


@pytest.mark.usefixtures("fresh_versions")
def test_turned_off_the_kept_version_is_forgotten(settings: Settings) -> None:
    with internals.isolated(), new_ydl(settings, cookies=()) as ydl:
        warm_versions(ydl)
    with internals.disabled(VERSIONS.name):
        check_versions()
        assert not {"ffmpeg", "ffprobe"} & set(FFmpegPostProcessor._version_cache)
        assert merges(settings)  # yt-dlp asks itself


@pytest.mark.usefixtures("fresh_versions")
def test_when_yt_dlp_keeps_versions_otherwise_it_asks_them_itself(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FFmpegPostProcessor, "_version_cache", ("changed",), raising=False)
    with internals.isolated(), new_ydl(settings, cookies=()) as ydl:
        warm_versions(ydl)
        assert VERSIONS.state == "fallback"
        check_versions()  # nothing was warmed: nothing to check
    assert ffmpeg_versions._warmed == {}


class Sockets:
    """Every connection and name lookup this process attempts (each refused)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[Any] = []
        monkeypatch.setattr(socket.socket, "connect", self._refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", self._refuse)
        monkeypatch.setattr(socket, "getaddrinfo", self._refuse)
        monkeypatch.setattr(socket, "create_connection", self._refuse)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts.append(args)
        raise OSError("no network in the warm-up")


def test_the_canned_page_is_extracted_without_any_traffic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sockets = Sockets(monkeypatch)
    nowhere = Settings(allow_networks=[], allow_private=False)
    with new_ydl(nowhere, cookies=()) as ydl:
        asked = warm_page(ydl)
        assert "urlopen" not in vars(ydl)  # the YoutubeDL's own requests again afterwards
    assert asked == [PAGE_URL]
    assert sockets.attempts == []


def test_after_the_canned_page_an_extraction_compiles_almost_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep_patterns()
    nowhere = Settings(allow_networks=[], allow_private=False)
    with new_ydl(nowhere, cookies=()) as ydl:
        warm_page(ydl)
    before = dict(re._cache)  # type: ignore[attr-defined]
    with new_ydl(nowhere, cookies=()) as ydl:
        warm_page(ydl)
    new = set(re._cache) - set(before)  # type: ignore[attr-defined]
    assert len(new) <= 3  # a few patterns yt-dlp builds from the URL itself


def test_the_forkserver_imports_the_site_extractors_modules() -> None:
    modules = preload(extractors())
    assert modules[:2] == [WARM_MODULE, CHILD_MODULE]  # the child's own code, imported once
    assert {ie.__module__ for ie in extractors()} == set(modules[2:])
    assert len(modules) == len(set(modules))
