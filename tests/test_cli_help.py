"""``--help`` reads as help: names and words, no Python types, nothing cut, the settings named;
``serve`` refuses a port that can't be and says where everything is when it starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.cli import run_mediadl
from support.server import serving

PYTHON_TYPE = re.compile(
    r"(?<!/)<(?:str|int|float|bool|list\[[a-z]+\]|path|dir|file)>|\{[a-z_]+\}\.\.\."
)
"""What typer prints for a parameter without a name of its own (``<list[str]>``, ``{urls}...``);
``<base>/<host>/<path>`` in a sentence is the text of a help, not a type."""


@pytest.mark.parametrize("command", ["", "get", "info", "serve", "sites", "doctor"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_has_no_python_types_and_points_to_the_settings(command: str, flag: str) -> None:
    done = run_mediadl(*command.split(), flag, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"Usage: mediadl {command}".replace("  ", " ").rstrip())
    assert not PYTHON_TYPE.findall(text), PYTHON_TYPE.findall(text)
    assert "docs/settings.md" in text
    assert "config.toml" in text


def test_the_command_list_is_whole() -> None:
    text = run_mediadl("--help").stdout
    commands = text.split("Commands:")[1]
    assert "…" not in commands and "..." not in commands
    for name in ("get", "info", "serve", "sites", "doctor"):
        assert re.search(rf"^  {name}  +\S", commands, re.M), name


def test_get_usage_names_its_links() -> None:
    text = run_mediadl("get", "--help").stdout
    assert text.splitlines()[0] == "Usage: mediadl get [OPTIONS] URL..."
    assert re.search(r"^  URL\.\.\.  +One or more shareable links", text, re.M)


def test_serve_help_names_what_a_public_server_must_set() -> None:
    text = " ".join(run_mediadl("serve", "--help").stdout.split())
    for name in (
        "MEDIADL_SECRET",
        "MEDIADL_BASE_URL",
        "MEDIADL_TRUSTED_PROXIES",
        "MEDIADL_RATE_LIMIT",
        "MEDIADL_RATE_LIMIT_STORAGE",
        "MEDIADL_API_KEYS",
    ):
        assert name in text, name


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_refuses_a_port_that_cannot_be(port: str) -> None:
    done = run_mediadl("serve", "--port", port, timeout=30)
    assert done.returncode == 2
    assert "Invalid value for '--port'" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_says_where_the_page_docs_networks_and_data_are(tmp_path: Path) -> None:
    with serving(tmp_path, "startup") as server:
        port = server.base.rsplit(":", 1)[1]
        log = server.log.read_text()
    assert f"web page: http://127.0.0.1:{port}/" in log
    assert f"API docs: http://127.0.0.1:{port}/docs" in log
    assert "links may reach: public addresses and 127.0.0.2/32" in log
    assert f"data directory: {tmp_path / 'startup-data'}" in log


@pytest.mark.parametrize("command", ["add", "list", "show", "cancel", "retry", "rm"])
def test_jobs_commands_help_like_the_others(command: str) -> None:
    done = run_mediadl("jobs", command, "--help", env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"Usage: mediadl jobs {command} [OPTIONS]")
    assert not PYTHON_TYPE.findall(text), PYTHON_TYPE.findall(text)
    assert "--server URL" in text
    assert "--key KEY" in text


def test_jobs_retry_names_the_item() -> None:
    text = run_mediadl("jobs", "retry", "--help").stdout
    assert text.splitlines()[0] == "Usage: mediadl jobs retry [OPTIONS] ID"
    assert re.search(r"^  --item N  +Run only this failed or cancelled item again", text, re.M)
