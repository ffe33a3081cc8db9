"""``SiteIE._site_join``: links found on a page, made absolute on the site or on its replica."""

from __future__ import annotations

import pytest

from mediadl.sites.base import SiteIE


class _Site(SiteIE):
    IE_NAME = "example"
    _HOSTS = r"www\.example\.com"
    _PATH = r"/v/(?P<id>\d+)"


REPLICA = "http://127.0.0.2:8123"


@pytest.mark.parametrize(
    ("href", "real", "replica"),
    [
        (
            "/media/a.mp4",
            "https://www.example.com/media/a.mp4",
            f"{REPLICA}/www.example.com/media/a.mp4",
        ),
        ("a.mp4", "https://www.example.com/v/a.mp4", f"{REPLICA}/www.example.com/v/a.mp4"),
        (
            "//cdn.example.com/a.mp4",
            "https://cdn.example.com/a.mp4",
            "http://cdn.example.com/a.mp4",
        ),
        (
            "////cdn.example.com/a.mp4",
            "https://cdn.example.com/a.mp4",
            "http://cdn.example.com/a.mp4",
        ),
        (
            " https://cdn.example.com/a.mp4 ",
            "https://cdn.example.com/a.mp4",
            "https://cdn.example.com/a.mp4",
        ),
    ],
    ids=["root-relative", "relative", "protocol-relative", "malformed", "absolute"],
)
def test_links_are_made_absolute_like_a_browser_on_the_site_or_its_replica(
    href: str, real: str, replica: str
) -> None:
    assert _Site._site_join("https://www.example.com/v/1", href) == real
    pointed = _Site.pointed_at(REPLICA)
    assert pointed._site_join(f"{REPLICA}/www.example.com/v/1", href) == replica
