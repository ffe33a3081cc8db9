"""What ``mediadl get`` loads before its first request to the site: only what reading a page needs.

The fetcher (aiohttp and its SSL contexts), PyAV, the server and the rate-limit library are
loaded when a download starts or never; each costs the start of every command otherwise. The
fetcher starts loading on a thread of its own once the page is requested
(:mod:`mediadl.engine.preload`), using the time the page takes to come.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mediadl_fixtures import FixtureSite

UNTIL_FIRST_REQUEST = """
import os, sys, threading
host = sys.argv[1]
read = []

def first_connect(event, args):
    if event == "import" and threading.current_thread().name != "mediadl-load":
        read.append(args[0])  # imported by the thread that reads the page
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] == host:
        print("MODULES", *sorted(read), file=sys.stderr, flush=True)
        os._exit(0)

sys.addaudithook(first_connect)
sys.argv = ["mediadl", *sys.argv[2:]]
from mediadl.entry import main
main()
"""

NOT_BEFORE_THE_PAGE = (
    "aiohttp",
    "av",
    "limits",
    "fastapi",
    "starlette",
    "uvicorn",
    "mediadl.engine.fetch",
    "mediadl.engine.download",
    "mediadl.engine.diagnostics",
    "mediadl.service",
)


def test_get_reads_the_page_before_loading_the_fetcher(site: FixtureSite, tmp_path: Path) -> None:
    page = site.url("video")
    done = subprocess.run(
        [sys.executable, "-c", UNTIL_FIRST_REQUEST, site.host, "get", "-o", str(tmp_path), page],
        capture_output=True,
        text=True,
        env={**os.environ, "MEDIADL_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = done.stderr.split("MODULES", 1)[1].split()
    assert "yt_dlp" in modules  # the page is read by yt-dlp: this is the first request
    loaded = [m for m in modules if m in NOT_BEFORE_THE_PAGE or m.startswith(NOT_BEFORE_THE_PAGE)]
    assert loaded == []


WHILE_THE_PAGE_IS_READ = """
import sys, threading
host = sys.argv[1]
held = []

def say(line):  # one write per line: the two threads' lines must not interleave
    sys.stderr.write(line + "\\n")
    sys.stderr.flush()

def loaded():  # a module is in sys.modules from the start of its import: the thread must be done
    loading = any(t.name == "mediadl-load" for t in threading.enumerate())
    return "mediadl.engine.download" in sys.modules and not loading

def hooks(event, args):
    if event == "import" and args[0] == "aiohttp":  # the fetcher's first import of it
        say(f"IMPORTED BY {threading.current_thread().name}")
    elif event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] == host:
        if held:
            return
        held.append(1)  # the page's request: hold it until the fetcher's thread is done
        for thread in threading.enumerate():
            if thread.name == "mediadl-load":
                thread.join(60)  # a load that never ends leaves loaded() False
        say(f"LOADED BEFORE THE PAGE CAME {loaded()}")

sys.addaudithook(hooks)
sys.argv = ["mediadl", *sys.argv[2:]]
from mediadl.entry import main
main()
"""


def test_the_fetcher_loads_while_the_page_is_on_its_way(site: FixtureSite, tmp_path: Path) -> None:
    """The page's request is held here until the fetcher is loaded: a thread of its own loads it
    from the first request on (not the reading thread, not after the page), and the download
    then gets the whole file."""
    command = ["get", "--no-metadata", "-o", str(tmp_path), site.pages["video"]]
    done = subprocess.run(
        [sys.executable, "-c", WHILE_THE_PAGE_IS_READ, site.host, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "MEDIADL_DATA_DIR": str(tmp_path / "data")},
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "IMPORTED BY mediadl-load" in done.stderr, done.stderr
    assert "LOADED BEFORE THE PAGE CAME True" in done.stderr, done.stderr
    [saved] = [p for p in tmp_path.iterdir() if p.is_file()]
    assert saved.read_bytes() == site.media["progressive"].read_bytes()
