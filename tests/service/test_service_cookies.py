"""The server's own cookies (``MEDIADL_COOKIES_FILE``): a members-only page through a tunnel,
the cookie sent only where it belongs, never in a link; a bad file or browser cookies refused at
start with a message and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from mediadl_fixtures.members import MEMBER_COOKIE, MEMBER_VALUE, cookie_file
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media
from support.server import Server

pytestmark = pytest.mark.slow


def members_page(site: FixtureSite, name: str) -> str:
    return f"{site.base_url}/v/pages/{name}.html"


def test_the_server_reads_a_members_page_with_its_cookies_file(
    launch: Callable[..., Server], site: FixtureSite, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(cookie_file("127.0.0.2"))
    server = launch("cookies", MEDIADL_COOKIES_FILE=str(cookies))
    resolved = httpx.post(
        f"{server.base}/api/v1/resolve", json={"url": members_page(site, "video")}, timeout=60
    )
    assert resolved.status_code == 200, resolved.text
    assert MEMBER_VALUE not in resolved.text
    thumbnail = httpx.get(resolved.json()["thumbnail"], timeout=60)  # /v/media/thumb.jpg
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"].startswith("image/")
    for page, body, container, height in (
        ("video", {}, "mp4", 360),
        ("hls", {"quality": 720}, "mp4", 720),
    ):
        answer = httpx.post(
            f"{server.base}/api/v1/download",
            json={"url": members_page(site, page), **body},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        tunnel = answer.json()["tunnel"]
        assert MEMBER_VALUE not in unquote(tunnel) and MEMBER_COOKIE not in unquote(tunnel)
        out = tmp_path / f"{page}.{container}"
        with httpx.stream("GET", tunnel, timeout=60) as r, out.open("wb") as sink:
            assert r.status_code == 200
            for chunk in r.iter_bytes():
                sink.write(chunk)
        assert_media(
            out, container=container, vcodec="h264", height=height, acodec="aac", duration=60.0
        )
    members = [r for r in site.stats.log if r.path.startswith("/v/")]
    assert "/v/media/thumb.jpg" in {r.path for r in members}
    assert members and all(
        r.status in (200, 206) and r.cookies == (MEMBER_COOKIE,) for r in members
    )
    others = [r for r in site.stats.log if not r.path.startswith("/v/")]
    assert all(r.cookies == () for r in others)
    assert MEMBER_VALUE not in server.log.read_text()


def test_without_the_cookies_file_the_page_is_private(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    server = launch("plain")
    r = httpx.post(
        f"{server.base}/api/v1/resolve", json={"url": members_page(site, "video")}, timeout=60
    )
    assert (r.status_code, r.json()["error"]["code"]) == (403, "content.private")


def serve_once(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    environ |= {"MEDIADL_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(
        [sys.executable, "-m", "mediadl", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "doesn't exist"),
        ('[{"name": "sid", "value": "json-secret-7"}]', "Netscape"),
        ("# Netscape HTTP Cookie File\nhalf a line-secret-8\n", "Netscape cookie entries"),
    ],
    ids=["missing", "json", "malformed"],
)
def test_a_bad_cookies_file_stops_the_server_at_start(
    content: str | None, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "cookies.txt"
    if content is not None:
        path.write_text(content)
    done = serve_once(tmp_path, MEDIADL_COOKIES_FILE=str(path))
    assert done.returncode == 2
    assert "config.cookies" in done.stderr and str(path) in done.stderr and words in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "secret-" not in done.stderr + done.stdout


def test_the_server_refuses_browser_cookies(tmp_path: Path) -> None:
    done = serve_once(tmp_path, MEDIADL_COOKIES_FROM_BROWSER="firefox")
    assert done.returncode == 2
    assert "config.cookies" in done.stderr and "MEDIADL_COOKIES_FILE" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
