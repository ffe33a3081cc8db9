"""``mediadl get`` in a real terminal: what stays on the screen while and after bars run.

Each run is a real process on a pseudo-terminal; its bytes are played into a terminal emulator
and the test reads the screen lines a person would read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyte

from mediadl_fixtures.server import FixtureSite
from support.terminal import TerminalRun, run_in_terminal

COLUMNS = 80
BAR_PIECES = re.compile(r"[━╸╺\u2800-\u28ff]|reading ")
"""What a bar or a spinner leaves behind: its line, its spinner (braille) or its status text."""
SIZE = r"\d+(?:\.\d)? (?:B|KB|MB|GB)"
SPEED = re.compile(SIZE + "/s")


WIDE = 400
"""Columns for the tests that read whole messages: none of them wraps (a wrap by the terminal
can't be told from a line of its own once on the screen)."""


def messages(run: TerminalRun) -> list[str]:
    return [line for line in run.screen if line]


def test_errors_between_bars_each_stand_on_a_line_of_their_own(
    site: FixtureSite, tmp_path: Path
) -> None:
    nomedia = site.pages["nomedia"]
    run = run_in_terminal(
        "get",
        "notaurl",
        site.pages["hls"],
        "ftp://example.com/a.mp4",
        nomedia,
        site.url("/pages/gone.html"),
        "-o",
        str(tmp_path),
        columns=WIDE,
    )
    assert run.returncode == 1
    shown = messages(run)
    assert not [line for line in shown if BAR_PIECES.search(line)], shown
    errors = [line for line in shown if line.startswith("error ")]
    assert [line.split()[1] for line in errors] == [
        "link.invalid",
        "link.unsupported",
        "content.no_media",
        "content.unavailable",
    ]
    assert errors[0] == (
        "error link.invalid  notaurl: That doesn't look like a link. Copy the video's share "
        "URL and paste it here."
    )
    assert errors[2].startswith(f"error content.no_media  {nomedia}: The page was found")
    (saved,) = [line for line in shown if line.startswith("saved ")]
    (path,) = tmp_path.iterdir()
    assert saved.startswith(f"saved {path}  {path.stat().st_size / 1e6:.1f} MB in ")
    assert SPEED.search(saved), saved  # the average speed
    assert len(shown) == 5, shown  # nothing else: no frozen bar, no fragment
    assert "Traceback" not in run.raw.decode()


def test_json_lines_on_the_terminal_are_whole(site: FixtureSite, tmp_path: Path) -> None:
    run = run_in_terminal(
        "get",
        "notaurl",
        site.pages["post"],
        site.pages["nomedia"],
        "--json",
        "-o",
        str(tmp_path),
        columns=WIDE,
    )
    assert run.returncode == 1
    items = [json.loads(line) for line in messages(run)]  # every line on the screen is JSON
    assert [item["error"]["code"] if item["error"] else "ok" for item in items] == [
        "link.invalid",
        "ok",
        "ok",
        "content.no_media",
    ]


def test_json_on_a_pipe_while_the_bars_are_on_the_terminal(
    site: FixtureSite, tmp_path: Path
) -> None:
    run = run_in_terminal(
        "get", "notaurl", site.pages["video"], "--json", "-o", str(tmp_path), pipe_stdout=True
    )
    assert run.returncode == 1
    items = [json.loads(line) for line in run.stdout.splitlines()]
    assert [bool(item["error"]) for item in items] == [True, False]
    assert messages(run) == []  # the bars came and went; the JSON went to the pipe only


def test_at_80_columns_a_bar_holds_on_one_line_with_its_size_and_speed(
    site: FixtureSite, tmp_path: Path
) -> None:
    slow = site.url("/pages/video.html", total_rate=1_000_000)  # ~3 s for 3 MB
    run = run_in_terminal("get", slow, "-o", str(tmp_path), rows=10)
    assert run.returncode == 0
    frames = _frames(run.raw, COLUMNS, 10)
    bars = [line for frame in frames for line in frame if "━" in line]
    assert bars
    with_speed = [line for line in bars if SPEED.search(line) and re.search(SIZE + "/", line)]
    assert with_speed, bars[-5:]
    for frame in frames:  # no size or speed ever wraps onto a line of its own
        if any(line.startswith("saved ") for line in frame):
            break  # the end: the closing line may wrap, it is no bar
        for line in frame:
            if re.search(SIZE, line):
                assert "━" in line, frame


def _frames(raw: bytes, columns: int, rows: int) -> list[list[str]]:
    """The screen after each redraw: rich starts each one by going back to the start of the
    live area and erasing it (``CR``, ``ESC [2K``), so the stream is cut just before that."""
    screen = pyte.Screen(columns, rows)
    stream = pyte.ByteStream(screen)
    frames = []
    for piece in re.split(rb"(?=\r\x1b\[2K)", raw):
        stream.feed(piece)
        frames.append([line.rstrip() for line in screen.display if line.strip()])
    return frames


def test_quiet_shows_errors_only(site: FixtureSite, tmp_path: Path) -> None:
    run = run_in_terminal(
        "get", "notaurl", site.pages["video"], "--quiet", "-o", str(tmp_path), columns=WIDE
    )
    assert run.returncode == 1
    assert [line.split()[:2] for line in messages(run)] == [["error", "link.invalid"]]
    assert b"\xe2\x94\x81" not in run.raw  # no bar was drawn at all
    assert len(list(tmp_path.glob("*.mp4"))) == 1
