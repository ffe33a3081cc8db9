"""What a pasted link becomes before anything is fetched."""

from __future__ import annotations

import pytest

from mediadl import errors
from mediadl.engine.extract import normalize_url


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("  https://example.com/watch?v=1#t=30 ", "https://example.com/watch?v=1"),
        ("HTTPS://Example.com", "https://Example.com/"),
        ("youtube.com/watch?v=OLCJYT5y8Bo", "https://youtube.com/watch?v=OLCJYT5y8Bo"),
        ("http://127.0.0.2:8800/pages/video.html", "http://127.0.0.2:8800/pages/video.html"),
    ],
)
def test_links_are_normalized(pasted: str, expected: str) -> None:
    assert normalize_url(pasted) == expected


@pytest.mark.parametrize(
    "pasted",
    [
        "",
        "   ",
        "not a url",
        "notaurl",
        "http://",
        "https://a b/",
        "http://host:99999/",
        "x" * 5000,
    ],
)
def test_not_a_link(pasted: str) -> None:
    with pytest.raises(errors.LinkInvalid) as caught:
        normalize_url(pasted)
    assert caught.value.code == "link.invalid"
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "pasted",
    [
        "ftp://example.com/a.mp4",
        "file:///etc/passwd",
        "data:text/html,hi",
        "gopher://example.com/",
        "javascript:alert(1)",
    ],
)
def test_other_schemes_are_unsupported(pasted: str) -> None:
    with pytest.raises(errors.LinkUnsupported) as caught:
        normalize_url(pasted)
    assert caught.value.code == "link.unsupported"
