"""A ``YoutubeDL`` built ahead serves one extraction, and only one asking for its options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yt_dlp

from mediadl.engine import ready_ydl
from mediadl.engine.ready_ydl import ReadyYdl
from mediadl.engine.ytdl import guard_of
from mediadl.settings import Settings
from support.probe_extractor import ProbeIE


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[yt_dlp.YoutubeDL]:
    """Every ``YoutubeDL`` the real ``new_ydl`` builds for ``ReadyYdl``, in order."""
    real, made = ready_ydl.new_ydl, []

    @contextmanager
    def recording(*args: Any, **kwargs: Any) -> Iterator[yt_dlp.YoutubeDL]:
        with real(*args, **kwargs) as ydl:
            made.append(ydl)
            yield ydl

    monkeypatch.setattr(ready_ydl, "new_ydl", recording)
    return made


def test_the_ready_one_serves_the_first_extraction_with_its_options(
    settings: Settings, built: list[yt_dlp.YoutubeDL]
) -> None:
    ready = ReadyYdl(settings, [ProbeIE], noplaylist=False)
    assert len(built) == 1
    assert ready.waiting
    with ready.open(settings, [ProbeIE], noplaylist=False) as ydl:
        assert ydl is built[0]
        info = ydl.extract_info("https://probe.invalid/one", download=False)
        assert info["id"] == "one"
    assert not ready.waiting
    with ready.open(settings, [ProbeIE], noplaylist=False) as again:  # a retry: a new one
        assert again is built[1]


@pytest.mark.parametrize(
    "change",
    [
        {"noplaylist": True},
        {"extractors": []},
        {"settings": {"proxy": "http://127.0.0.9:3128"}},
    ],
)
def test_other_options_get_a_new_one_built_for_them(
    settings: Settings, built: list[yt_dlp.YoutubeDL], change: dict[str, Any]
) -> None:
    ready = ReadyYdl(settings, [ProbeIE], noplaylist=False)
    asked = settings.model_copy(update=change.get("settings", {}))
    extractors = change.get("extractors", [ProbeIE])
    noplaylist = change.get("noplaylist", False)
    with ready.open(asked, extractors, noplaylist=noplaylist) as ydl:
        assert ydl is built[1]
        assert ydl.params["noplaylist"] is noplaylist
        guard = guard_of(ydl)
        assert guard is not None
        assert (guard.proxy is not None) is ("settings" in change)  # the proxy asked for
    assert not ready.waiting  # the unused one is closed, never handed out later
