"""The registry of private internals: each one's state, its fallback, and forcing it off."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediadl.engine import internals
from mediadl.engine.internals import Internal, declare
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings

_names = itertools.count()


@pytest.fixture
def internal() -> Internal:
    return declare(f"test.internal_{next(_names)}", "a test's", "the public way")


def boom() -> str:
    raise AttributeError("gone")


def test_an_internal_that_works_is_active(internal: Internal) -> None:
    assert internal.state == "unused"
    assert internal.run(lambda: "private", lambda: "public") == "private"
    assert internal.state == "active" and internal.reason is None
    assert internal in internals.report()


def test_a_broken_internal_falls_back_for_good_and_is_logged_once(
    internal: Internal, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def private() -> str:
        calls.append("private")
        return boom()

    with caplog.at_level(logging.WARNING, "mediadl.internals"):
        assert internal.run(private, lambda: "public") == "public"
        assert internal.run(private, lambda: "public") == "public"
    assert calls == ["private"], "a broken internal isn't tried again"
    assert internal.state == "fallback" and not internal.usable()
    assert internal.reason == "AttributeError: gone"
    warnings = [r for r in caplog.records if internal.name in r.getMessage()]
    assert len(warnings) == 1 and "the public way" in warnings[0].getMessage()


def test_an_error_the_public_way_raises_too_is_the_inputs(internal: Internal) -> None:
    def public() -> str:
        raise ValueError("bad selector")

    internal.run(lambda: "private", lambda: "public")
    with pytest.raises(ValueError, match="bad selector"):
        internal.run(boom, public)
    assert internal.state == "active", "the internal isn't blamed for its input"


def test_the_setting_disables_exactly_the_named_ones(internal: Internal) -> None:
    other = declare(f"test.other_{next(_names)}", "a test's", "the public way")
    internal.run(lambda: "private", lambda: "public")
    internals.disable([internal.name])
    assert internal.state == "disabled" and not internal.usable()
    assert internal.reason == "disabled by the disable_internals setting"
    assert internal.run(boom, lambda: "public") == "public", "a disabled one isn't tried"
    assert other.state == "unused" and other.usable()
    internals.disable(["*"])
    assert other.state == "disabled"
    internals.disable([])
    assert (internal.state, other.state) == ("active", "unused"), "what was seen comes back"


def test_new_ydl_applies_the_setting(internal: Internal, settings: Settings) -> None:
    with new_ydl(settings.model_copy(update={"disable_internals": [internal.name]})):
        pass
    assert internal.state == "disabled"
    with new_ydl(settings):
        pass
    assert internal.state == "unused"


def test_the_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIADL_DISABLE_INTERNALS", "re._parser, yt_dlp.YoutubeDL._ies")
    assert Settings().disable_internals == ["re._parser", "yt_dlp.YoutubeDL._ies"]


def test_disabled_holds_whatever_the_settings_say_and_restores_everything(
    internal: Internal, settings: Settings
) -> None:
    internal.run(lambda: "private", lambda: "public")
    with internals.disabled(internal.name):
        with new_ydl(settings):  # settings that disable nothing
            pass
        assert internal.state == "disabled"
    assert internal.state == "active"
    with internals.isolated():
        internal.run(boom, lambda: "public")
        internals.disable(["*"])
        assert internal.state == "disabled"
    assert internal.state == "active" and internal.usable()


def test_yt_dlp_plugins_are_never_loaded(tmp_path: Path) -> None:
    """yt-dlp's documented YTDLP_NO_PLUGINS keeps strangers' plugins out (no private switch)."""
    package = tmp_path / "yt_dlp_plugins" / "extractor"
    package.mkdir(parents=True)
    marker = tmp_path / "plugin-ran"
    (package / "planted.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADL_", "YTDLP_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    env["MEDIADL_DATA_DIR"] = str(tmp_path / "data")

    def run(code: str) -> None:
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)

    run(
        "from mediadl.engine.ytdl import new_ydl\nfrom mediadl.settings import Settings\n"
        "with new_ydl(Settings()):\n    pass"
    )
    assert not marker.exists()
    run("import yt_dlp\nyt_dlp.YoutubeDL({'quiet': True})")
    assert marker.exists(), "yt-dlp alone loads it: the check above can fail"
