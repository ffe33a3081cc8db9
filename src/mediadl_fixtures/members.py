"""A members' area: everything under ``/v/`` answers 403 unless the member cookie comes along.

``/v/pages/video.html``, ``/v/media/progressive.mp4``, ``/v/hls/master.m3u8``… are the site's own
pages and media (their relative links stay inside ``/v/``), for a session cookie scoped
``Path=/v`` on the site's host: what a site that wants a login looks like to a downloader.
``/vx/…`` serves the same things to anyone: a sibling path that merely starts with ``v``, where
the cookie must not go. Every request's cookie names are in the request log
(``RequestRecord.cookies``), so a test can see what was sent where.
"""

from __future__ import annotations

__all__ = [
    "MEMBER_COOKIE",
    "MEMBER_PATH",
    "MEMBER_VALUE",
    "SIBLING_PATH",
    "admitted",
    "area",
    "cookie_file",
    "cookie_names",
]

MEMBER_PATH = "/v"
SIBLING_PATH = "/vx"
MEMBER_COOKIE = "member"
MEMBER_VALUE = "fixture-member-5f1c9a"


def area(path: str) -> tuple[str, str, bool] | None:
    """``(area prefix, path inside it, cookie needed)`` for ``/v/…`` and ``/vx/…``; else None."""
    for prefix, needed in ((MEMBER_PATH, True), (SIBLING_PATH, False)):
        if path.startswith(prefix + "/"):
            return prefix, path[len(prefix) :], needed
    return None


def admitted(cookie_header: str | None) -> bool:
    """Whether the request's ``Cookie`` header carries the member cookie with its value."""
    return (MEMBER_COOKIE, MEMBER_VALUE) in _pairs(cookie_header)


def cookie_names(cookie_header: str | None) -> tuple[str, ...]:
    """The names of the cookies a request sent, sorted (values stay out of the log)."""
    return tuple(sorted(name for name, _ in _pairs(cookie_header)))


def _pairs(cookie_header: str | None) -> list[tuple[str, str]]:
    """``name=value`` pairs of a request's ``Cookie`` header (RFC 6265 5.4: no attributes in it,
    so a cookie named ``path`` or ``domain`` is a cookie like any other)."""
    pairs = []
    for item in (cookie_header or "").split(";"):
        name, sep, value = item.strip().partition("=")
        if sep and name:
            pairs.append((name, value))
    return pairs


def cookie_file(host: str, *, extra: str = "") -> str:
    """A Netscape cookies.txt admitting to the members' area of the site on ``host``.

    ``extra``: more lines (tab-separated entries) for tests that check where others go.
    """
    entry = "\t".join((host, "FALSE", MEMBER_PATH, "FALSE", "0", MEMBER_COOKIE, MEMBER_VALUE))
    return f"# Netscape HTTP Cookie File\n{entry}\n{extra}"
