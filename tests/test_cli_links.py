"""``mediadl get`` on the links and names people give it: sound only, no scheme, templates,
and Ctrl-C while a slow page is read. Real processes against the fixture site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl


@pytest.mark.parametrize(("page", "ext"), [("mp3", ".mp3"), ("audio", ".m4a")])
def test_a_sound_only_link_saves_the_sound_without_a_flag(
    page: str, ext: str, site: FixtureSite, tmp_path: Path
) -> None:
    done = run_mediadl("get", site.pages[page], "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (saved,) = tmp_path.iterdir()
    assert saved.suffix == ext
    result = probe(saved)
    assert result.video is None and result.audio is not None
    assert result.duration and result.duration > 1


def test_ctrl_c_while_a_page_is_read_ends_at_once(site: FixtureSite, tmp_path: Path) -> None:
    slow = site.url("video", latency=600_000)  # the page would take ten minutes
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediadl", "get", slow, "-o", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "MEDIADL_READ_TIMEOUT": "900"},
    )
    try:
        deadline = time.monotonic() + 60
        while site.stats.connections_opened == 0:
            assert time.monotonic() < deadline and proc.poll() is None, "the page was never asked"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)  # far less than the page's ten minutes
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_link_without_scheme_falls_back_to_http(site: FixtureSite, tmp_path: Path) -> None:
    bare = site.pages["mp3"].removeprefix("http://")
    done = run_mediadl("get", bare, "--json", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (saved,) = tmp_path.iterdir()
    assert saved.suffix == ".mp3"


def test_a_link_without_scheme_that_nothing_answers_says_what_was_tried(tmp_path: Path) -> None:
    done = run_mediadl("get", "127.0.0.2:9/video", "-o", str(tmp_path))
    assert done.returncode == 1
    assert "fetch.failed" in done.stderr
    assert "https://" in done.stderr and "http://" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{title", "unbalanced brace"),
        ("{title} {nope} {other}", "{nope}, {other}"),
        ("../{title}", "may not leave the output folder"),
        ("/tmp/{title}", "relative to the output folder"),
    ],
)
def test_a_bad_template_is_refused_before_any_request(
    template: str, says: str, site: FixtureSite, tmp_path: Path
) -> None:
    done = run_mediadl("get", site.pages["video"], "--name", template, "-o", str(tmp_path))
    assert done.returncode == 2
    assert "config.template" in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr
    assert site.stats.requests_total == 0
    assert list(tmp_path.iterdir()) == []


def _saved(done: subprocess.CompletedProcess[str], root: Path) -> list[str]:
    assert done.returncode == 0, done.stderr
    return [
        str(Path(json.loads(line)["path"]).relative_to(root)) for line in done.stdout.splitlines()
    ]


def test_template_folders_stay_inside_and_names_stay_clean(
    site: FixtureSite, tmp_path: Path
) -> None:
    done = run_mediadl(
        "get",
        site.pages["mp3"],
        "--name",
        "{uploader}/{site}/{uploader} - {title} [{height}p].mp3",
        "--json",
        "-o",
        str(tmp_path),
    )
    # no uploader: no folder and no "- " for it; sound only: no "[p]"; ".mp3" not doubled
    (path,) = _saved(done, tmp_path)
    folder, name = path.split("/")
    assert folder and not name.startswith(("-", " ")) and "[" not in name
    assert name.endswith(".mp3") and not name.endswith(".mp3.mp3")
    assert (tmp_path / path).is_file()


def test_template_index_and_ext(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl(
        "get",
        site.pages["post"],
        "--name",
        "{index:02d} {id}.{ext}",
        "--json",
        "--no-metadata",
        "-o",
        str(tmp_path),
    )
    assert _saved(done, tmp_path) == ["01 post-1.mp4", "02 post-2.mp4"]
