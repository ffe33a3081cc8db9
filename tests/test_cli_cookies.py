"""``--cookies`` / ``--cookies-from-browser``: a members-only page downloads with its cookie, each
cookie goes only where it belongs, and a bad cookies file stops the command before any request."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mediadl.engine.probe import probe
from mediadl_fixtures.members import MEMBER_COOKIE, MEMBER_VALUE, cookie_file
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl

HOST = "127.0.0.2"
OTHERS = "\n".join(
    "\t".join(fields)
    for fields in (
        # named like cookie attributes: still plain cookies of /v
        (HOST, "FALSE", "/v", "FALSE", "0", "path", "p1"),
        (HOST, "FALSE", "/v", "FALSE", "0", "domain", "d1"),
        # https only: never sent to the http fixture site
        (HOST, "FALSE", "/", "TRUE", "0", "secure_only", "s1"),
        # another host's
        ("127.0.0.3", "FALSE", "/", "FALSE", "0", "other_host", "o1"),
        # the sibling path /vx's own
        (HOST, "FALSE", "/vx", "FALSE", "0", "sibling", "x1"),
    )
)


def mediadl(*args: str) -> subprocess.CompletedProcess[str]:
    return run_mediadl(*args)


def members_page(site: FixtureSite, name: str = "video") -> str:
    return f"{site.base_url}/v/pages/{name}.html"


def write_cookies(folder: Path, text: str) -> Path:
    path = folder / "cookies.txt"
    path.write_text(text)
    return path


def test_get_with_cookies_downloads_the_members_video(site: FixtureSite, tmp_path: Path) -> None:
    cookies = write_cookies(tmp_path, cookie_file(HOST, extra=OTHERS + "\n"))
    written = cookies.read_bytes()
    out = tmp_path / "out"
    done = mediadl("get", "--cookies", str(cookies), members_page(site), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert cookies.read_bytes() == written  # read, never written back
    (path,) = out.iterdir()
    result = probe(path)
    assert result.video is not None and result.video.height == 360
    assert result.audio is not None and result.audio.codec == "aac"
    assert result.duration is not None and abs(result.duration - 60.0) < 1.0
    members = [r for r in site.stats.log if r.path.startswith("/v/")]
    assert {r.path for r in members} >= {"/v/pages/video.html", "/v/media/progressive.mp4"}
    assert all(r.status in (200, 206) for r in members)
    # /v's cookies, those named path and domain included; not the https-only, other host's
    # or sibling path's ones
    assert {r.cookies for r in members} == {("domain", MEMBER_COOKIE, "path")}
    assert MEMBER_VALUE not in done.stdout + done.stderr


def test_get_hls_with_cookies_gives_the_720p_video(site: FixtureSite, tmp_path: Path) -> None:
    cookies = write_cookies(tmp_path, cookie_file(HOST))
    out = tmp_path / "out"
    done = mediadl(
        "get", "--cookies", str(cookies), members_page(site, "hls"), "-q", "720", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    (path,) = out.iterdir()
    result = probe(path)
    assert result.video is not None and result.video.height == 720
    assert result.duration is not None and abs(result.duration - 60.0) < 1.0
    segments = [r for r in site.stats.log if r.path.startswith("/v/hls/")]
    assert segments and all(r.cookies == (MEMBER_COOKIE,) for r in segments)


def test_without_cookies_the_members_page_is_private(site: FixtureSite, tmp_path: Path) -> None:
    done = mediadl("get", members_page(site), "--json", "-o", str(tmp_path))
    assert done.returncode == 1
    (item,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert item["error"]["code"] == "content.private"
    assert list(tmp_path.iterdir()) == []


def test_the_sibling_path_gets_no_member_cookie(site: FixtureSite, tmp_path: Path) -> None:
    cookies = write_cookies(tmp_path, cookie_file(HOST))
    done = mediadl("info", "--cookies", str(cookies), f"{site.base_url}/vx/pages/video.html")
    assert done.returncode == 0, done.stderr
    sibling = [r for r in site.stats.log if r.path.startswith("/vx/")]
    assert sibling and all(r.cookies == () for r in sibling)


def test_a_missing_cookies_file_fails_before_any_request(site: FixtureSite, tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    done = mediadl("info", "--cookies", str(missing), members_page(site))
    assert done.returncode == 2
    assert "config.cookies" in done.stderr and str(missing) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert site.stats.requests_total == 0


def test_a_malformed_cookies_file_is_named_and_its_content_not_shown(
    site: FixtureSite, tmp_path: Path
) -> None:
    bad = write_cookies(tmp_path, '[{"name": "member", "value": "json-secret-42"}]\n')
    done = mediadl("get", "--cookies", str(bad), members_page(site), "-o", str(tmp_path))
    assert done.returncode == 2
    assert "config.cookies" in done.stderr and str(bad) in done.stderr
    assert "Netscape" in done.stderr
    assert "json-secret-42" not in done.stderr + done.stdout
    skipped = write_cookies(tmp_path, cookie_file(HOST, extra="not a cookie line-secret-43\n"))
    done = mediadl("get", "--cookies", str(skipped), members_page(site), "-o", str(tmp_path))
    assert done.returncode == 2
    assert str(skipped) in done.stderr and "secret-43" not in done.stderr + done.stdout
    assert site.stats.requests_total == 0


def test_an_unknown_browser_is_refused_as_yt_dlp_refuses_it(
    site: FixtureSite, tmp_path: Path
) -> None:
    done = mediadl("info", "--cookies-from-browser", "netscape4", members_page(site))
    assert done.returncode == 2
    assert "config.cookies" in done.stderr and "netscape4" in done.stderr
    assert "firefox" in done.stderr  # the browsers yt-dlp knows are listed
    missing = mediadl("info", "--cookies-from-browser", "firefox:/nonexistent", members_page(site))
    assert missing.returncode == 2
    assert "config.cookies" in missing.stderr and "Traceback" not in missing.stderr
    assert site.stats.requests_total == 0
