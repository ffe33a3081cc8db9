"""``mediadl --help`` and ``--version`` answer without loading the CLI, and say the same things."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from mediadl.entry import ROOT_HELP

HEAVY = ("typer", "rich", "pydantic", "yt_dlp", "aiohttp", "av", "mediadl.cli", "mediadl.service")

SHOW_MODULES = """
import atexit, sys
atexit.register(lambda: print("MODULES", *sorted(sys.modules), file=sys.stderr))
sys.argv = ["mediadl", *sys.argv[1:]]
from mediadl.entry import main
main()
"""


def _run(code: str, *args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("flag", ["--help", "--version", "-V"])
def test_help_and_version_load_none_of_the_heavy_modules(flag: str) -> None:
    done = _run(SHOW_MODULES, flag)
    assert done.returncode == 0, done.stderr
    modules = done.stderr.split("MODULES", 1)[1].split()
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert loaded == []
    if flag == "--help":
        assert done.stdout == ROOT_HELP
    else:
        assert done.stdout.startswith(f"mediadl {version('mediadl')}\nyt-dlp {version('yt-dlp')}\n")


@pytest.mark.parametrize("columns", [80, 200])
def test_the_quick_help_is_the_clis_own(columns: int) -> None:
    """If this fails, a command's summary changed: paste the CLI's help into ``ROOT_HELP``."""
    cli_help = "from mediadl.cli import app\napp(['--help'], prog_name='mediadl')"
    done = _run(cli_help, columns=columns)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ROOT_HELP


def test_a_narrow_terminal_gets_the_clis_help_wrapped_to_it() -> None:
    done = _run(SHOW_MODULES, "--help", columns=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout != ROOT_HELP
    assert "Commands:" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 60


def test_an_invalid_runtime_setting_is_named_not_a_crash() -> None:
    env = {**os.environ, "MEDIADL_JS_RUNTIME": "rhino"}
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODULES, "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "js runtime: invalid setting" in done.stdout
    assert "unknown JavaScript runtime 'rhino'" in done.stdout
