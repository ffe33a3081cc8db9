"""Cookies are configuration: read once per process, handed to each yt-dlp, never written back."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine.cookies import configured_cookies, load_cookies, remember_cookies
from mediadl.engine.fetch.ytdlp import YtdlpFetcher
from mediadl.engine.ytdl import new_ydl
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.members import MEMBER_COOKIE, MEMBER_VALUE, cookie_file
from mediadl_fixtures.server import FixtureSite


def settings_with(tmp_path: Path, cookies: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", cookies_file=cookies)


def test_a_process_reads_its_cookies_file_once(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(cookie_file("127.0.0.2"))
    settings = settings_with(tmp_path, path)
    first = configured_cookies(settings)
    assert [(c.name, c.value, c.path) for c in first] == [(MEMBER_COOKIE, MEMBER_VALUE, "/v")]
    path.unlink()  # gone after start: what was read stays in use
    assert configured_cookies(settings) == first


def test_each_yt_dlp_gets_the_cookies_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(cookie_file("127.0.0.2"))
    before = path.read_bytes()
    settings = settings_with(tmp_path, path)
    with new_ydl(settings) as ydl:
        assert "cookiefile" not in ydl.params
        header = ydl.cookiejar.get_cookie_header("http://127.0.0.2:1234/v/pages/video.html")
        assert header == f"{MEMBER_COOKIE}={MEMBER_VALUE}"
        assert ydl.cookiejar.get_cookie_header("http://127.0.0.2:1234/vx/a.html") is None
    assert path.read_bytes() == before


def test_a_child_uses_what_its_parent_read(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, tmp_path / "never-written.txt")
    with pytest.raises(errors.ConfigCookies):
        configured_cookies(settings)
    remember_cookies(settings, ())
    assert configured_cookies(settings) == ()


def test_yt_dlps_own_downloader_sends_a_formats_cookies_where_they_belong(
    site: FixtureSite, tmp_path: Path
) -> None:
    """The fallback fetcher (yt-dlp's downloaders) gets the format's cookies in its jar."""
    path = tmp_path / "cookies.txt"
    path.write_text(cookie_file("127.0.0.2"))
    settings = Settings(allow_networks=["127.0.0.2/32"], data_dir=tmp_path / "data")
    records = load_cookies(path)
    for area in ("v", "vx"):
        fmt = Format(
            id=area,
            url=f"{site.base_url}/{area}/media/progressive.mp4",
            protocol="https",
            ext="mp4",
            cookies=records,
        )
        dest = tmp_path / f"{area}.mp4"
        YtdlpFetcher(settings).fetch(fmt, dest)
        assert dest.read_bytes() == site.media["progressive"].read_bytes()
    sent = {r.path.split("/")[1]: r.cookies for r in site.stats.log}
    assert sent == {"v": (MEMBER_COOKIE,), "vx": ()}
