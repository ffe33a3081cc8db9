"""``mediadl --help`` and ``--version`` answer without loading the CLI, and say the same things."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

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


FAKE_RUNTIME = """#!/bin/sh
echo "$@" >> "{marker}"
echo "{answer}"
"""
ANSWERS = {"deno": "deno 9.8.7 (stable, release, x86_64-unknown-linux-gnu)", "node": "v9.8.7"}


def _fake_runtime(folder: Path, name: str) -> tuple[Path, Path]:
    """A runtime binary that answers ``--version`` as ``name`` does and notes each start."""
    marker = folder / "started"
    binary = folder / name
    binary.write_text(FAKE_RUNTIME.format(marker=marker, answer=ANSWERS[name]))
    binary.chmod(0o755)
    return binary, marker


@pytest.mark.parametrize("how", ["path", "on PATH"])
def test_version_names_the_runtime_without_starting_it(tmp_path: Path, how: str) -> None:
    name = "deno" if how == "path" else "node"
    binary, marker = _fake_runtime(tmp_path, name)
    env = {**os.environ, "COLUMNS": "100"}
    if how == "path":
        env["MEDIADL_JS_RUNTIME"] = f"deno:{binary}"
    else:
        env["MEDIADL_JS_RUNTIME"] = "node"
        env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    for command in ([sys.executable, "-c", SHOW_MODULES, "--version"], _cli("--version")):
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        assert f"js runtime: {name} at {binary} (mediadl doctor checks it)\n" in done.stdout
    assert not marker.exists()
    # doctor is where the runtime runs: it reports the version the binary gives
    doctor = subprocess.run(
        _cli("doctor", "--json"),
        check=False,
        capture_output=True,
        text=True,
        env={**env, "MEDIADL_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    runtime = next(c for c in json.loads(doctor.stdout)["components"] if c["name"] == "js-runtime")
    assert runtime["version"] == "9.8.7"
    assert runtime["path"] == str(binary)
    assert "--version" in marker.read_text()


def test_version_of_the_wheels_deno_is_what_the_binary_says() -> None:
    """The wheel's version stands for its binary's: checked against the binary itself."""
    from deno import find_deno_bin

    said = subprocess.run(
        [find_deno_bin(), "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()[1]
    done = _run(SHOW_MODULES, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2] == f"js runtime: deno {said}"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediadl", *args]
