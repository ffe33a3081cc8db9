"""What ``mediadl get`` loads before its first request to the site: only what reading a page needs.

The fetcher (aiohttp and its SSL contexts), PyAV, the server and the rate-limit library are
loaded when a download starts or never; each costs the start of every command otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mediadl_fixtures import FixtureSite

UNTIL_FIRST_REQUEST = """
import os, sys
host = sys.argv[1]

def first_connect(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] == host:
        print("MODULES", *sorted(sys.modules), file=sys.stderr, flush=True)
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
