"""Setting up: `make run` installs what running needs and no test tool; the manual page is the
CLI's own help; shell completion completes."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from mediadl.cli.manpage import manpage
from support.cli import run_mediadl

ROOT = Path(__file__).resolve().parent.parent


def make_dry_run(target: str) -> str:
    """The commands ``make TARGET`` would run from scratch (``-n -B``: printed, not run)."""
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_run_installs_the_product_without_the_test_tools() -> None:
    commands = make_dry_run("run")
    installs = [line for line in commands.splitlines() if "pip install" in line]
    assert any(line.endswith("-c constraints.txt -e .") for line in installs), installs
    assert "[test]" not in commands and "fixtures" not in commands
    tools = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test_tools = {"pytest", "playwright", "schemathesis", "ruff", "mypy"}
    runtime = {r.split("=")[0].split("[")[0].split(">")[0] for r in tools["dependencies"]}
    assert not test_tools & runtime
    assert test_tools <= {r.split("=")[0] for r in tools["optional-dependencies"]["test"]}


def test_make_test_installs_the_test_tools_and_the_fixture_site() -> None:
    commands = make_dry_run("test")
    assert "-c constraints.txt -e '.[test]'" in commands
    assert "-c constraints.txt -e ./fixtures" in commands


def test_the_manual_page_is_the_clis_own_help() -> None:
    page = (ROOT / "docs" / "mediadl.1").read_text()
    assert page == manpage(), "run: make man"
    assert page.startswith(".TH MEDIADL 1")
    for command in ("GET", "INFO", "SERVE", "SITES", "DOCTOR"):
        assert f"\n.SH {command}\n" in page


def test_shell_completion_completes_flags() -> None:
    env = dict(os.environ, _MEDIADL_COMPLETE="complete_bash", COMP_WORDS="mediadl get --cont")
    env["COMP_CWORD"] = "2"
    done = run_mediadl(env=env)
    assert done.returncode == 0
    assert done.stdout.split() == ["--container"]
