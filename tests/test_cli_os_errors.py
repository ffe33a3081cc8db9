"""The machine says no: a read-only folder, a full disk (while fetching and during the final
mux) and a title full of NUL and zero-width characters. Each ends with its own error code,
message and exit status, on a real terminal, and never with a Python traceback.

A full or read-only disk is a real one: a small tmpfs mounted in a private mount namespace
(``unshare --map-root-user --mount``, no privilege needed where user namespaces are allowed),
seen only by the one ``mediadl`` process under test.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.terminal import TerminalRun, run_in_terminal

WIDE = 400


def on_tmpfs(folder: Path, options: str) -> list[str]:
    """A prefix that runs the command with a fresh tmpfs (``options``) mounted on ``folder``."""
    script = f"mount -t tmpfs -o {shlex.quote(options)} tmpfs {shlex.quote(str(folder))}"
    return ["unshare", "--map-root-user", "--mount", "sh", "-c", script + ' && exec "$@"', "sh"]


def error_lines(run: TerminalRun) -> list[str]:
    assert "Traceback" not in run.raw.decode(errors="replace")
    return [line for line in run.screen if line.startswith("error ")]


def test_a_read_only_folder_says_so(site: FixtureSite, tmp_path: Path) -> None:
    run = run_in_terminal(
        "get",
        site.pages["video"],
        "-o",
        str(tmp_path),
        prefix=on_tmpfs(tmp_path, "ro,size=1m"),
        columns=WIDE,
    )
    assert run.returncode == 1
    (line,) = error_lines(run)
    assert line.split()[1] == "output.not_writable"
    assert "can't be written to" in line and f"Folder: {tmp_path}." in line


def test_a_full_disk_while_fetching_says_the_disk_is_full(
    site: FixtureSite, tmp_path: Path
) -> None:
    run = run_in_terminal(
        "get",
        site.pages["video"],
        "-o",
        str(tmp_path),
        prefix=on_tmpfs(tmp_path, "size=256k"),  # the video is 3 MB
        columns=WIDE,
    )
    assert run.returncode == 1
    (line,) = error_lines(run)
    assert line.split()[1] == "output.disk_full"
    assert "The disk is full" in line and f"Folder: {tmp_path}." in line


def test_a_disk_that_fills_during_the_final_mux_says_the_disk_is_full(
    site: FixtureSite, tmp_path: Path
) -> None:
    # Room for the fetched stream, not for it and the muxed file beside it.
    size = site.media["progressive"].stat().st_size
    run = run_in_terminal(
        "get",
        site.pages["video"],
        "-o",
        str(tmp_path),
        prefix=on_tmpfs(tmp_path, f"size={size * 3 // 2 // 4096 * 4096}"),
        columns=WIDE,
    )
    assert run.returncode == 1
    (line,) = error_lines(run)
    assert line.split()[1] == "output.disk_full", line
    assert "couldn't convert" not in line


def test_the_same_download_works_with_room_to_spare(site: FixtureSite, tmp_path: Path) -> None:
    """The control: what failed above was the disk, not the download."""
    size = site.media["progressive"].stat().st_size
    run = run_in_terminal(
        "get",
        site.pages["video"],
        "-o",
        str(tmp_path),
        prefix=on_tmpfs(tmp_path, f"size={size * 3}"),
        columns=WIDE,
    )
    assert run.returncode == 0, run.screen
    assert error_lines(run) == []
    assert any(line.startswith(f"saved {tmp_path}/") for line in run.screen)


TITLE = "Nul\x00title\u200b with\u200d zero\ufeffwidth"


@pytest.fixture
def nul_page(site: FixtureSite) -> Iterator[str]:
    """A page on 127.0.0.3 whose title holds NUL and zero-width characters."""
    clip = site.url("clip1")
    body = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{TITLE}</title>'
        f'<meta property="og:title" content="{TITLE}"></head>'
        f'<body><video src="{clip}"></video></body></html>'
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.3", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.3:{server.server_address[1]}/page.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("flags", [[], ["-a", "mp3"], ["--container", "mkv"]])
def test_nul_and_zero_width_characters_in_a_title(
    nul_page: str, tmp_path: Path, flags: list[str]
) -> None:
    run = run_in_terminal("get", nul_page, *flags, "-o", str(tmp_path), columns=WIDE)
    assert run.returncode == 0, run.screen
    assert error_lines(run) == []
    (path,) = tmp_path.iterdir()
    assert path.name.startswith("Nul title with zerowidth"), path.name
    assert not {"\x00", "\u200b", "\u200d", "\ufeff"} & set(path.name)
    assert probe(path).duration
