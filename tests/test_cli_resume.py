"""Resume and skip, as a person meets them: a real ``mediadl get`` stopped, run again, run again.

Bytes are counted where they are served (the fixture site), files compared with the source.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediadl.cli.get_run import pick_items
from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mediadl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _stop_after(
    proc: subprocess.Popen[str], site: FixtureSite, nbytes: float, sig: signal.Signals
) -> str:
    """Send ``sig`` once the site has served ``nbytes``; the process's stderr."""
    deadline = time.monotonic() + 120
    while site.stats.bytes_sent < nbytes and proc.poll() is None:
        assert time.monotonic() < deadline, "the download never got that far"
        time.sleep(0.01)
    assert proc.poll() is None, "the download ended before it could be stopped"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    return stderr


def _settle(site: FixtureSite) -> None:
    """Wait until the site has stopped sending to the stopped process, then count from zero."""
    before = -1
    while site.stats.bytes_sent != before:
        before = site.stats.bytes_sent
        time.sleep(0.3)
    site.reset_counters()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*"))


def test_interrupted_download_resumes_then_is_skipped(site: FixtureSite, tmp_path: Path) -> None:
    source = site.media["progressive"].read_bytes()
    url = site.url("video", total_rate=400_000)
    args = ("get", url, "--no-metadata", "-o", str(tmp_path))  # the file as served: comparable

    stderr = _stop_after(_start(*args), site, 0.4 * len(source), signal.SIGINT)
    assert "Traceback" not in stderr
    (work,) = tmp_path.iterdir()
    assert work.is_dir() and work.name.endswith(".mp4.part"), "the fetched bytes were kept"
    assert "the same command goes on from there" in stderr

    _settle(site)
    second = run_mediadl(*args)
    assert second.returncode == 0, second.stderr
    assert site.stats.bytes_sent < 0.7 * len(source)
    (saved,) = _files(tmp_path)
    assert saved.name.endswith(".mp4") and saved.read_bytes() == source

    site.reset_counters()
    third = run_mediadl(*args)
    assert third.returncode == 0, third.stderr
    assert "already downloaded" in third.stderr
    assert _files(tmp_path) == [saved]  # no "(2)" copy
    assert site.stats.requests["/media/progressive.mp4"] == 0


def test_killed_stream_download_resumes_from_its_segments(
    site: FixtureSite, tmp_path: Path
) -> None:
    url = site.url("hls", total_rate=300_000)
    whole = run_mediadl("get", url, "-q", "360", "-o", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    every = _segments(site)
    _settle(site)

    args = ("get", url, "-q", "360", "-o", str(tmp_path / "out"))
    first = _start(*args)
    deadline = time.monotonic() + 120
    while _segments(site) < every * 3 // 5 and first.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert first.poll() is None, "the download ended before it could be stopped"
    first.send_signal(signal.SIGKILL)  # no chance to save anything: only what was recorded
    first.communicate(timeout=30)

    _settle(site)
    second = run_mediadl(*args)
    assert second.returncode == 0, second.stderr
    assert _segments(site) < 0.7 * every
    (saved,) = _files(tmp_path / "out")
    result, reference = probe(saved), probe(next((tmp_path / "whole").iterdir()))
    assert result.video is not None and result.video.height == 360
    assert result.audio is not None
    assert abs((result.duration or 0) - (reference.duration or 0)) < 0.1


def _segments(site: FixtureSite) -> int:
    return sum(n for path, n in site.stats.requests.items() if path.endswith(".ts"))


def test_force_overwrites_replaces_the_file(site: FixtureSite, tmp_path: Path) -> None:
    args = ("get", site.pages["mp3"], "--no-metadata", "-o", str(tmp_path))
    assert run_mediadl(*args).returncode == 0
    (saved,) = _files(tmp_path)
    saved.write_bytes(b"not the sound")
    site.reset_counters()
    again = run_mediadl(*args, "--force-overwrites")
    assert again.returncode == 0, again.stderr
    assert _files(tmp_path) == [saved]
    assert saved.read_bytes() == site.media["audio_mp3"].read_bytes()


def test_download_archive_skips_a_playlist_rerun(site: FixtureSite, tmp_path: Path) -> None:
    archive = tmp_path / "archive.txt"
    out = tmp_path / "out"
    args = ("get", site.pages["post"], "--download-archive", str(archive), "-o", str(out))
    first = run_mediadl(*args, "--json")
    assert first.returncode == 0, first.stderr
    assert len(_files(out)) == 2
    assert archive.read_text().split("\n") == [
        "html5mediaembed post-1",
        "html5mediaembed post-2",
        "",
    ]

    for saved in _files(out):
        saved.unlink()  # the archive alone says they were downloaded
    site.reset_counters()
    second = run_mediadl(*args, "--json")
    assert second.returncode == 0, second.stderr
    assert [json.loads(line)["skipped"] for line in second.stdout.splitlines()] == [
        "archive",
        "archive",
    ]
    assert set(site.stats.requests) == {"/pages/post.html"}  # the page, and no media
    assert _files(out) == []


def test_playlist_items_picks_items(site: FixtureSite, tmp_path: Path) -> None:
    every = run_mediadl("get", site.pages["post"], "--json", "-o", str(tmp_path / "all"))
    titles = [json.loads(line)["title"] for line in every.stdout.splitlines()]
    assert len(titles) == 2
    done = run_mediadl("get", site.pages["post"], "-I", "-1", "--json", "-o", str(tmp_path / "one"))
    assert done.returncode == 0, done.stderr
    (item,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert item["title"] == titles[-1]
    assert len(_files(tmp_path / "one")) == 1


def test_connection_cap_flag(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl(
        "get", site.url("video", rate=2_000_000), "-N", "1", "--no-metadata", "-o", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert site.stats.peak_connections == 1
    (saved,) = _files(tmp_path)
    assert saved.read_bytes() == site.media["progressive"].read_bytes()


def test_bad_rate_and_items_are_refused(site: FixtureSite, tmp_path: Path) -> None:
    rate = run_mediadl("get", site.pages["video"], "-r", "fast", "-o", str(tmp_path))
    assert rate.returncode == 2 and "Traceback" not in rate.stderr
    items = run_mediadl("get", site.pages["post"], "-I", "x", "--json", "-o", str(tmp_path))
    assert items.returncode == 1 and "Traceback" not in items.stderr
    assert json.loads(items.stdout)["error"]["code"] == "link.invalid"


@pytest.mark.parametrize(
    ("spec", "picked"),
    [
        (None, [0, 1, 2, 3, 4]),
        ("1,3", [0, 2]),
        ("2-4", [1, 2, 3]),
        ("-1", [4]),
        ("-2:", [3, 4]),
        ("1:5:2", [0, 2, 4]),
        ("3,1,3,9", [2, 0]),
    ],
)
def test_playlist_items_follow_yt_dlp(spec: str | None, picked: list[int]) -> None:
    assert pick_items(5, spec) == picked


def test_a_failed_download_keeps_its_bytes_for_the_next_run(
    site: FixtureSite, tmp_path: Path
) -> None:
    source = site.media["progressive"].read_bytes()
    stalling = site.url("video", stall=600_000, stallsecs=60)  # every request stops at 600 kB
    env = {**os.environ, "MEDIADL_READ_TIMEOUT": "1", "MEDIADL_FETCH_RETRIES": "0"}
    failed = run_mediadl("get", stalling, "--no-metadata", "-o", str(tmp_path), env=env)
    assert failed.returncode == 1
    assert "fetch.timeout" in failed.stderr and "Traceback" not in failed.stderr
    (work,) = tmp_path.iterdir()
    assert work.name.endswith(".mp4.part")
    assert "the same command goes on from there" in failed.stderr

    _settle(site)
    again = run_mediadl("get", site.pages["video"], "--no-metadata", "-o", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert site.stats.bytes_sent < len(source) - 500_000  # what the failed run got stays
    (saved,) = _files(tmp_path)
    assert saved.read_bytes() == source


def test_a_second_run_of_the_same_download_is_refused_while_the_first_works(
    site: FixtureSite, tmp_path: Path
) -> None:
    args = ("get", site.url("video", total_rate=300_000), "--no-metadata", "-o", str(tmp_path))
    first = _start(*args)
    try:
        deadline = time.monotonic() + 60
        while not any(tmp_path.rglob("*.part.json")):
            assert time.monotonic() < deadline and first.poll() is None, "no download started"
            time.sleep(0.02)
        second = run_mediadl(*args)
        assert second.returncode == 1
        assert "download.busy" in second.stderr and "Traceback" not in second.stderr
        assert "goes on from there" not in second.stderr  # the folder isn't the second's
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    third = run_mediadl(*args)
    assert third.returncode == 0, third.stderr
    (saved,) = _files(tmp_path)
    assert saved.read_bytes() == site.media["progressive"].read_bytes()
