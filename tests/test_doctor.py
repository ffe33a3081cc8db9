"""``mediadl doctor`` and ``mediadl --version``: real processes, real ffmpeg and runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from support.cli import run_mediadl


def mediadl(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_mediadl(*args, env={**os.environ, "COLUMNS": "200", **env})


def doctor_json(**env: str) -> tuple[int, dict[str, Any]]:
    done = mediadl("doctor", "--json", **env)
    return done.returncode, json.loads(done.stdout)


def test_doctor_finds_everything_and_the_solver_solves(tmp_path: Path) -> None:
    code, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path))
    assert code == 0, report["problems"]
    versions = {c["name"]: c for c in report["components"]}
    assert versions["yt-dlp"]["version"] == version("yt-dlp")
    assert versions["yt-dlp-ejs"]["version"] == version("yt-dlp-ejs")
    assert versions["js-runtime"]["version"].startswith("2.")
    assert Path(versions["js-runtime"]["path"]).name == "deno"
    assert versions["ffmpeg"]["ok"] and Path(versions["ffmpeg"]["path"]).exists()
    assert versions["pyav"]["version"]
    assert report["js_runtime"] == "deno"
    assert report["solver_ready"] is True
    assert report["solver_detail"] == "deno solved a test challenge"
    names = [item["name"] for item in report["internals"]]
    assert "yt_dlp.extractor.youtube.jsc._builtin.vendor.VERSION" in names
    assert all(
        {"name", "state", "reason", "fallback"} <= item.keys() for item in report["internals"]
    )


def test_doctor_fails_without_ffmpeg_and_says_why(tmp_path: Path) -> None:
    code, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path), MEDIADL_FFMPEG="/nonexistent/ffmpeg")
    assert code == 1
    assert report["problems"] == [
        "ffmpeg: does not run ([Errno 2] No such file or directory: '/nonexistent/ffmpeg')"
    ]
    done = mediadl("doctor", MEDIADL_DATA_DIR=str(tmp_path), MEDIADL_FFMPEG="/nonexistent/ffmpeg")
    assert done.returncode == 1
    assert "problem ffmpeg: does not run" in done.stdout


def test_doctor_with_the_runtime_off_is_healthy_but_says_so(tmp_path: Path) -> None:
    code, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path), MEDIADL_JS_RUNTIME="none")
    assert code == 0
    assert report["js_runtime"] is None and report["solver_ready"] is False
    assert "YouTube offers fewer formats" in report["solver_detail"]


def test_a_runtime_that_cannot_solve_is_a_problem(tmp_path: Path) -> None:
    fake = tmp_path / "deno"
    fake.write_text("#!/bin/sh\necho 'deno 2.9.8'\n")
    fake.chmod(0o755)
    code, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path), MEDIADL_JS_RUNTIME=f"deno:{fake}")
    assert code == 1
    assert report["solver_ready"] is False
    assert report["problems"] == [
        "YouTube's challenge solver: deno could not run the solver scripts"
    ]


def test_doctor_shows_the_proxy_without_credentials_and_never_cookie_values(
    tmp_path: Path,
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n.example.com\tTRUE\t/\tTRUE\t0\tSID\tsecret-cookie-value\n"
    )
    env = {
        "MEDIADL_DATA_DIR": str(tmp_path),
        "MEDIADL_PROXY": "socks5h://alice:s3cret@127.0.0.1:1080",
        "MEDIADL_COOKIES_FILE": str(cookies),
    }
    code, report = doctor_json(**env)
    assert code == 0, report["problems"]
    assert report["proxy"] == "socks5h://127.0.0.1:1080"
    assert report["cookies_file"] == str(cookies) and report["cookies_readable"] is True
    done = mediadl("doctor", **env)
    for output in (done.stdout, json.dumps(report)):
        assert "s3cret" not in output and "alice" not in output
        assert "secret-cookie-value" not in output
    assert "socks5h://127.0.0.1:1080" in done.stdout
    assert f"{cookies} (readable)" in done.stdout


def test_doctor_reports_a_proxy_it_cant_use_as_a_problem(tmp_path: Path) -> None:
    env = {
        "MEDIADL_DATA_DIR": str(tmp_path),
        "MEDIADL_PROXY": "http://alice:s3cret@proxy.invalid:3128",
    }
    code, report = doctor_json(**env)
    assert code == 1
    assert report["proxy"] == "http://proxy.invalid:3128"
    assert [p for p in report["problems"] if p.startswith("proxy: ")], report["problems"]
    assert "s3cret" not in json.dumps(report)


def test_doctor_lists_internals_with_their_state(tmp_path: Path) -> None:
    name = "yt_dlp.extractor.youtube.jsc._builtin.vendor.VERSION"
    _, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path))
    (used,) = [i for i in report["internals"] if i["name"] == name]
    assert used["state"] == "active" and used["reason"] is None
    _, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path), MEDIADL_DISABLE_INTERNALS=name)
    (off,) = [i for i in report["internals"] if i["name"] == name]
    assert off["state"] == "disabled"
    assert off["reason"] == "disabled by the disable_internals setting"
    assert report["solver_ready"] is True  # the fallback: scripts present, versions not compared


def test_doctor_tries_the_internals_a_link_would_use(tmp_path: Path) -> None:
    """A fresh process has read no link: doctor uses each internal once, offline, so the report
    says whether it works, not that nothing used it yet."""
    _, report = doctor_json(MEDIADL_DATA_DIR=str(tmp_path))
    states = {i["name"]: i["state"] for i in report["internals"]}
    for name in (
        "yt_dlp.networking._urllib",
        "yt_dlp.YoutubeDL._request_director",
        "yt_dlp.YoutubeDL._ies",
        "yt_dlp.InfoExtractor._ENABLED",
        "re._parser",
        "yt_dlp.YoutubeDL._select_formats",
    ):
        assert states[name] == "active", (name, states)


def test_version_names_mediadl_yt_dlp_and_the_runtime() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mediadl"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"mediadl {version('mediadl')}"
    assert lines[1] == f"yt-dlp {version('yt-dlp')}"
    assert lines[2].startswith("js runtime: deno 2.")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_through_the_cli_too(flag: str) -> None:
    done = mediadl(flag)
    assert done.returncode == 0
    assert done.stdout.startswith(f"mediadl {version('mediadl')}\nyt-dlp {version('yt-dlp')}\n")
