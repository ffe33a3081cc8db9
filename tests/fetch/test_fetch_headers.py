"""Headers and cookies go only where they belong (the standard library's cookie rules); backoff
waits grow and honour Retry-After."""

from __future__ import annotations

from pathlib import Path

from mediadl.engine.cookies import load_cookies
from mediadl.engine.fetch import stream_format
from mediadl.engine.fetch.headers import RequestHeaders
from mediadl.engine.fetch.retry import Backoff, retry_after_seconds
from mediadl.models import CookieRecord, Format
from mediadl.settings import Settings
from mediadl_fixtures.members import MEMBER_COOKIE, MEMBER_VALUE, cookie_file
from mediadl_fixtures.server import FixtureSite

SITE = [
    CookieRecord("sid", "abc", ".example.com", "/", secure=True, domain_initial_dot=True),
    CookieRecord("pref", "1", "cdn.example.com", "/v"),
    CookieRecord("path", "p", "cdn.example.com", "/v"),
    CookieRecord("domain", "d", "cdn.example.com", "/v"),
]


def cookie(headers: RequestHeaders, url: str) -> str | None:
    return headers(url).get("Cookie")


def test_a_path_matches_on_slash_boundaries_only() -> None:
    headers = RequestHeaders({}, [CookieRecord("pref", "1", "cdn.example.com", "/v")])
    assert cookie(headers, "http://cdn.example.com/v") == "pref=1"
    assert cookie(headers, "http://cdn.example.com/v/1.ts") == "pref=1"
    assert cookie(headers, "http://cdn.example.com/vx") is None
    assert cookie(headers, "http://cdn.example.com/vx/1.ts") is None
    assert cookie(headers, "http://cdn.example.com/") is None


def test_cookies_named_like_attributes_are_plain_cookies() -> None:
    headers = RequestHeaders({}, SITE[1:])
    sent = cookie(headers, "http://cdn.example.com/v/1.ts")
    assert sent is not None
    assert sorted(sent.split("; ")) == ["domain=d", "path=p", "pref=1"]
    assert cookie(headers, "http://other.example.com/v/1.ts") is None


def test_secure_cookies_go_over_https_only() -> None:
    headers = RequestHeaders({"User-Agent": "ua"}, SITE[:1])
    assert cookie(headers, "https://www.example.com/x") == "sid=abc"
    assert cookie(headers, "http://www.example.com/x") is None
    assert headers("http://www.example.com/x") == {"User-Agent": "ua"}


def test_domain_cookies_reach_subdomains_and_host_cookies_only_their_host() -> None:
    # a host-only cookie (from a cookies.txt line whose domain has no leading dot)
    headers = RequestHeaders(
        {},
        [
            *SITE[:1],
            CookieRecord("h", "1", "example.com", "/", domain_specified=False),
        ],
    )
    assert cookie(headers, "https://cdn.example.com/") == "sid=abc"
    assert sorted((cookie(headers, "https://example.com/") or "").split("; ")) == ["h=1", "sid=abc"]
    assert cookie(headers, "https://evil-example.com/") is None
    assert cookie(headers, "https://example.com.evil.org/") is None


def test_a_cookie_left_in_http_headers_is_dropped() -> None:
    headers = RequestHeaders({"Cookie": "leak=1", "Referer": "r"}, SITE)
    assert headers("https://evil.example.org/") == {"Referer": "r"}
    assert "leak" not in (cookie(headers, "https://cdn.example.com/v/a") or "")


def test_expired_cookies_are_not_sent() -> None:
    headers = RequestHeaders({}, [CookieRecord("old", "1", "example.com", "/", expires=1)])
    assert cookie(headers, "https://example.com/") is None


def test_a_cookies_txt_file_reads_into_the_same_rules(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    lines = [
        ".example.com\tTRUE\t/\tTRUE\t0\tsid\tabc",
        "cdn.example.com\tFALSE\t/v\tFALSE\t0\tpath\tp",
        "#HttpOnly_cdn.example.com\tFALSE\t/\tFALSE\t4102444800\tdomain\td",
    ]
    path.write_text("# Netscape HTTP Cookie File\n" + "\n".join(lines) + "\n")
    headers = RequestHeaders({}, load_cookies(path))
    sent = (cookie(headers, "https://cdn.example.com/v/1") or "").split("; ")
    assert sorted(sent) == ["domain=d", "path=p", "sid=abc"]
    assert cookie(headers, "http://cdn.example.com/vx") == "domain=d"
    assert cookie(headers, "https://sub.cdn.example.com/v/1") == "sid=abc"


async def test_the_fetcher_sends_the_member_cookie_to_its_path_only(
    site: FixtureSite, tmp_path: Path
) -> None:
    """Against the fixture site: ``/v/…`` gets the cookie and answers; ``/vx/…`` gets none."""
    path = tmp_path / "cookies.txt"
    path.write_text(cookie_file("127.0.0.2"))
    records = load_cookies(path)
    settings = Settings(allow_networks=["127.0.0.2/32"], data_dir=tmp_path / "data")
    expected = site.media["progressive"].read_bytes()
    for area in ("v", "vx"):
        fmt = Format(
            id=area,
            url=f"{site.base_url}/{area}/media/progressive.mp4",
            protocol="https",
            ext="mp4",
            cookies=records,
        )
        data = b"".join([chunk async for chunk in stream_format(fmt, settings)])
        assert data == expected
    sent = {r.path.split("/")[1]: r.cookies for r in site.stats.log}
    assert sent == {"v": (MEMBER_COOKIE,), "vx": ()}
    assert all(MEMBER_VALUE not in repr(r) for r in records)


def test_backoff_grows_to_its_cap_with_jitter_and_obeys_retry_after() -> None:
    backoff = Backoff(retries=5, base=0.2, cap=2.0)
    assert 0.1 <= backoff.delay(0) <= 0.2
    assert 1.0 <= backoff.delay(10) <= 2.0
    assert backoff.delay(3, retry_after=0.0) == 0.0
    assert backoff.delay(3, retry_after=500.0) == backoff.max_retry_after


def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds("Fri, 15 Jan 2027 09:00:00 GMT", now=now) == 3600.0
    assert retry_after_seconds("Fri, 15 Jan 2027 07:00:00 GMT", now=now) == 0.0  # past: no wait
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("nan") is None
    backoff = Backoff(retries=5)
    assert backoff.delay(0, retry_after_seconds("inf")) == backoff.max_retry_after
