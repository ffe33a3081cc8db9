"""Headers and cookies go only where they belong; backoff waits grow and honour Retry-After."""

from __future__ import annotations

from mediadl.engine.fetch.headers import RequestHeaders, parse_cookies
from mediadl.engine.fetch.retry import Backoff

COOKIES = (
    "sid=abc; Domain=.example.com; Path=/; Secure; "
    "pref=1; Domain=cdn.example.com; Path=/v; Expires=99"
)


def test_yt_dlp_cookie_strings_parse() -> None:
    sid, pref = parse_cookies(COOKIES)
    assert (sid.name, sid.value, sid.domain, sid.secure) == ("sid", "abc", ".example.com", True)
    assert (pref.name, pref.domain, pref.path) == ("pref", "cdn.example.com", "/v")


def test_cookies_are_scoped_by_domain_path_and_scheme() -> None:
    headers = RequestHeaders({"User-Agent": "ua", "Cookie": "leak=1"}, COOKIES)
    assert headers("https://cdn.example.com/v/1.ts")["Cookie"] == "sid=abc; pref=1"
    assert headers("https://www.example.com/x")["Cookie"] == "sid=abc"
    assert "Cookie" not in headers("http://www.example.com/x")
    assert "Cookie" not in headers("https://evil.example.org/v/1.ts")
    assert headers("https://evil.example.org/")["User-Agent"] == "ua"


def test_backoff_grows_to_its_cap_with_jitter_and_obeys_retry_after() -> None:
    backoff = Backoff(retries=5, base=0.2, cap=2.0)
    assert 0.1 <= backoff.delay(0) <= 0.2
    assert 1.0 <= backoff.delay(10) <= 2.0
    assert backoff.delay(3, retry_after=0.0) == 0.0
    assert backoff.delay(3, retry_after=500.0) == backoff.max_retry_after
