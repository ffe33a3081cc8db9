"""The command line as a person uses it: a real process against the fixture site."""

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


def mediadl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_mediadl(*args, cwd=cwd)


def test_get_720_gives_a_720p_mp4(site: FixtureSite, tmp_path: Path) -> None:
    done = mediadl("get", site.pages["hls"], "-q", "720", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    assert path.suffix == ".mp4"
    result = probe(path)
    assert result.video is not None and result.video.height == 720
    assert result.audio is not None and result.audio.codec == "aac"


def test_get_mp3_gives_an_mp3(site: FixtureSite, tmp_path: Path) -> None:
    done = mediadl("get", site.pages["hls"], "-a", "mp3", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    assert path.suffix == ".mp3"
    assert probe(path).audio is not None


def test_get_of_a_small_file_asks_the_site_for_it_once(site: FixtureSite, tmp_path: Path) -> None:
    site.reset_counters()
    done = mediadl("get", site.pages["video"], "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    got, source = probe(path), probe(site.media["progressive"])
    assert got.duration is not None and source.duration is not None
    assert abs(got.duration - source.duration) < 0.1
    assert got.video is not None and source.video is not None
    assert got.video.height == source.video.height
    asked = [r.range for r in site.stats.log if r.path == "/media/progressive.mp4"]
    assert asked == ["bytes=0-"]


def test_json_reports_each_item_of_a_playlist(site: FixtureSite, tmp_path: Path) -> None:
    done = mediadl("get", site.pages["post"], "--json", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    items = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(items) == 2
    for item in items:
        assert item["error"] is None
        assert Path(item["path"]).parent == tmp_path and Path(item["path"]).exists()
        assert item["title"]
        assert {"path", "title", "duration", "error"} <= item.keys()


def test_no_playlist_flag_is_accepted(site: FixtureSite, tmp_path: Path) -> None:
    done = mediadl("get", site.pages["video"], "--no-playlist", "--json", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("link", "code"),
    [
        ("not a link", "link.invalid"),
        ("ftp://example.com/a.mp4", "link.unsupported"),
    ],
)
def test_bad_input_gives_its_code_and_no_traceback(link: str, code: str, tmp_path: Path) -> None:
    done = mediadl("get", link, "-o", str(tmp_path))
    assert done.returncode == 1
    assert code in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert list(tmp_path.iterdir()) == []


def test_site_errors_in_json(site: FixtureSite, tmp_path: Path) -> None:
    done = mediadl(
        "get", site.pages["nomedia"], site.url("/pages/gone.html"), "--json", "-o", str(tmp_path)
    )
    assert done.returncode == 1
    codes = [json.loads(line)["error"]["code"] for line in done.stdout.splitlines()]
    assert codes == ["content.no_media", "content.unavailable"]
    assert "Traceback" not in done.stderr


def test_bad_flag_values_are_refused(site: FixtureSite) -> None:
    done = mediadl("get", site.pages["video"], "-q", "999")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_info_lists_the_real_choices(site: FixtureSite) -> None:
    done = mediadl("info", "--json", site.pages["hls"])
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert [v["height"] for v in body["choices"]["video"]] == [1080, 720, 360]
    assert [a["format"] for a in body["choices"]["audio"]] == ["best", "mp3", "m4a", "opus"]
    text = mediadl("info", "--formats", site.pages["hls"])
    assert text.returncode == 0 and "720p" in text.stdout and "m3u8" in text.stdout


def test_ctrl_c_cancels_at_once_and_keeps_only_the_work_folder(
    site: FixtureSite, tmp_path: Path
) -> None:
    url = site.url("video", rate=100_000)
    site.reset_counters()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediadl", "get", url, "-o", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 30
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(tmp_path.iterdir()), "the download started"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    # at 100 kB/s a connection the 3 MB file needs seconds: an at-once stop leaves most unsent
    assert site.stats.bytes_sent < site.media["progressive"].stat().st_size // 2
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    (kept,) = tmp_path.iterdir()  # no file under the target's name: only what a re-run resumes
    assert kept.is_dir() and kept.name.endswith(".mp4.part")


def _without_private_setting() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.upper() != "MEDIADL_ALLOW_PRIVATE"}


@pytest.mark.parametrize("command", ["get", "info"])
def test_the_environment_denies_local_links_when_no_flag_says(
    command: str, site: FixtureSite, tmp_path: Path
) -> None:
    env = {**_without_private_setting(), "MEDIADL_ALLOW_PRIVATE": "false"}
    done = run_mediadl(command, site.pages["video"], "--json", env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "link.forbidden" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_flag_wins_over_the_environment(site: FixtureSite, tmp_path: Path) -> None:
    denied = {**_without_private_setting(), "MEDIADL_ALLOW_PRIVATE": "false"}
    allowed = run_mediadl("info", "--json", "--allow-private", site.pages["video"], env=denied)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["title"]
    permitted = {**_without_private_setting(), "MEDIADL_ALLOW_PRIVATE": "true"}
    refused = run_mediadl("info", "--json", "--deny-private", site.pages["video"], env=permitted)
    assert refused.returncode == 1
    assert "link.forbidden" in refused.stdout + refused.stderr


def test_without_flag_or_setting_the_cli_allows_local_links(site: FixtureSite) -> None:
    done = run_mediadl("info", "--json", site.pages["video"], env=_without_private_setting())
    assert done.returncode == 0, done.stderr
