"""``mediadl get`` says what it does instead of surprising: flags that cancel each other, a
quality that isn't offered, a re-encoding container, retries; ``--json`` tells each item's
title, duration and link as a person knows them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl
from support.terminal import run_in_terminal


def notes(stderr: str) -> list[str]:
    return [line.removeprefix("note ") for line in stderr.splitlines() if line.startswith("note ")]


def test_flags_that_cancel_each_other_are_named(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl(
        "get", site.pages["hls"], "-a", "mp3", "--mute", "-q", "720", "--container", "mkv",
        "-o", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert notes(done.stderr) == [
        "-a (sound only) and --mute (no sound) together: --mute ignored",
        "-a gives sound only: -q (a video height) ignored",
        "-a picks the file type itself: --container ignored",
    ]
    (path,) = tmp_path.iterdir()
    assert path.suffix == ".mp3" and probe(path).video is None


def test_no_note_when_the_flags_agree(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl("get", site.pages["hls"], "-q", "720", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert notes(done.stderr) == []


def test_webm_says_it_re_encodes_before_it_starts(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl("get", site.pages["video"], "--container", "webm", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    (note,) = notes(done.stderr)
    assert note.startswith("webm: the video is re-encoded to VP9")
    assert lines.index(f"note {note}") < next(
        i for i, line in enumerate(lines) if line.startswith("saved ")
    )
    (path,) = tmp_path.iterdir()
    result = probe(path)
    assert result.video is not None and result.video.codec == "vp9"


def test_a_quality_that_falls_back_says_so(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl("get", site.pages["hls"], "-q", "480", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert notes(done.stderr) == ["480p isn't offered: 360p instead"]
    (path,) = tmp_path.iterdir()
    result = probe(path)
    assert result.video is not None and result.video.height == 360


def test_retries_show_on_the_bar(site: FixtureSite, tmp_path: Path) -> None:
    # The file stops after 200 kB on the first try; a read waits 1 s before it gives up.
    stalling = site.url("/pages/video.html", stall=200_000, stallsecs=5, stallfirst=1)
    env = dict(os.environ, MEDIADL_READ_TIMEOUT="1")
    run = run_in_terminal("get", stalling, "-o", str(tmp_path), env=env, rows=10)
    assert run.returncode == 0, run.screen
    assert re.search(rb"retry 1/\d+: timed out", run.raw)
    (path,) = tmp_path.iterdir()
    assert path.read_bytes() != b""
    assert probe(path).duration


def test_json_keeps_titles_durations_and_plain_links_of_feed_items(
    site: FixtureSite, tmp_path: Path
) -> None:
    done = run_mediadl(
        "get", site.pages["feed"], site.pages["video"], "--json", "-o", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    items = [json.loads(line) for line in done.stdout.splitlines()]
    assert [item["title"] for item in items[:3]] == [
        "Fixture clip 1 (6 s)",
        "Fixture clip 2 (8 s)",
        "Fixture clip 3 (10 s)",
    ]
    for item in items:
        assert "#" not in item["url"] and "smuggle" not in item["url"]
        duration = probe(Path(item["path"])).duration
        assert duration is not None
        assert abs(item["duration"] - duration) < 1.0, item
    assert Path(items[0]["path"]).name == "Fixture clip 1 (6 s).mp4"
