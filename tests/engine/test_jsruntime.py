"""The JavaScript runtime YouTube's challenges need: handed to yt-dlp, sandboxed, within limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mediadl.engine.jsruntime import JIT_MEMORY
from mediadl.engine.sandbox import ExtractorPool
from mediadl.engine.ytdl import new_ydl
from mediadl.settings import Settings
from support.jsplayer import PLAYER_PATH, JsChallengeIE, serving_player

pytestmark = pytest.mark.slow


class _Lines:
    """A yt-dlp logger that keeps every line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str) -> None:
        self.lines.append(msg)

    info = warning = error = debug


def _debug_lines(settings: Settings) -> list[str]:
    """yt-dlp's verbose header and YouTube's challenge providers, as the engine configures it."""
    logger = _Lines()
    with new_ydl(settings, verbose=True, logger=logger) as ydl:
        ydl.print_debug_header()
        ydl.get_info_extractor("Youtube").initialize()
    return logger.lines


def _line(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_yt_dlp_sees_the_bundled_runtime_and_the_solver(settings: Settings) -> None:
    lines = _debug_lines(settings)
    assert _line(lines, "[debug] JS runtimes:").startswith("[debug] JS runtimes: deno-2.")
    assert "yt_dlp_ejs-" in _line(lines, "[debug] Optional libraries:")
    providers = _line(lines, "[debug] [youtube] [jsc] JS Challenge Providers:")
    assert "deno," in providers
    assert "deno (unavailable)" not in providers


def test_js_runtime_none_leaves_it_off(settings: Settings) -> None:
    lines = _debug_lines(settings.model_copy(update={"js_runtime": "none"}))
    assert _line(lines, "[debug] JS runtimes:") == "[debug] JS runtimes: none (disabled)"
    assert "deno (unavailable)" in _line(lines, "[debug] [youtube] [jsc] JS Challenge Providers:")


def test_runtime_is_found_without_path(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    fresh = Settings.model_validate({**settings.model_dump(), "js_runtime": "deno"})
    name, _, path = fresh.js_runtime.partition(":")
    assert name == "deno" and path.endswith("/deno")
    lines = _debug_lines(fresh)
    assert _line(lines, "[debug] JS runtimes:").startswith("[debug] JS runtimes: deno-2.")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("rhino", "unknown JavaScript runtime 'rhino': use one of deno, node, bun, quickjs"),
        ("deno:/nonexistent/deno", "JavaScript runtime deno not found at '/nonexistent/deno'"),
    ],
)
def test_a_bad_runtime_is_refused_clearly(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(js_runtime=value)


def test_a_runtime_missing_from_path_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ValueError, match="JavaScript runtime bun not found on PATH"):
        Settings(js_runtime="bun")


async def _solve_in_child(settings: Settings, memory: int) -> dict[str, Any]:
    bounded = settings.model_copy(
        update={"allow_private": False, "extract_timeout": 120.0, "extract_memory": memory}
    )
    pool = ExtractorPool(bounded, [JsChallengeIE], workers=1)
    with serving_player("127.0.0.2") as player:
        origin = player.url.split("/s/player/")[0]
        info = await pool.resolve(f"{origin}/jsc?player={player.url}")
    report: dict[str, Any] = json.loads(info.title)
    report["paths"] = player.paths
    return report


@pytest.mark.parametrize("memory", [JIT_MEMORY, 512 << 20], ids=["jit", "jitless"])
async def test_challenges_are_solved_in_the_extraction_child(
    settings: Settings, memory: int
) -> None:
    """yt-dlp's own challenge machinery, in a server's child with its limits, solves offline."""
    report = await _solve_in_child(settings, memory)
    assert report["data_limit"] == memory
    jitless = report["extractor_args"].get("youtube-ejs", {}).get("jitless")
    assert jitless == (None if memory >= JIT_MEMORY else ["true"])
    assert report["answers"]["sig"] == {"xyz": "zyx"}
    solved, _, attempts = report["answers"]["n"]["abc"].partition("|")
    assert solved == "Ncba"
    # The player's code could not read a file or the environment, nor start a process...
    assert attempts.split(",")[:3] == ["NotCapable", "NotCapable", "NotCapable"]
    # ...nor reach the network: no net permission, and its fetch never arrived.
    assert attempts.split(",")[3] != "granted"
    assert report["paths"] == [PLAYER_PATH]
