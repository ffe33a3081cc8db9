"""The published form of a link: everything it matches is taken, everything else is refused.

The OpenAPI schema promises ``url`` matches ``LINK_PATTERN``; a fuzzer holds the server to both
halves of that promise, so the pattern must never match a link the engine refuses (that would be a
valid request answered 400), and the service refuses whatever the pattern doesn't match.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import httpx
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediadl import errors
from mediadl.engine import normalize_url
from mediadl.service import links
from mediadl.service.links import LINK_PATTERN, check_link

ECMA = jsonschema_rs.validator_for({"type": "string", "pattern": LINK_PATTERN})
"""How a JSON Schema validator (ECMA 262 regular expressions) reads the published pattern."""


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(links._LINK, fullmatch=True))
def test_every_link_the_pattern_matches_is_taken(url: str) -> None:
    assert ECMA.is_valid(url), "Python's re and ECMA 262 read the pattern alike"
    assert check_link(url) == normalize_url(url)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(LINK_PATTERN))
def test_every_link_the_published_pattern_matches_is_taken_trimmed(url: str) -> None:
    """Spaces and line breaks around a link are trimmed, as cobalt's API trims them."""
    assert ECMA.is_valid(url)
    assert check_link(url) == normalize_url(url.strip())


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(re.compile(links._IPV6), fullmatch=True))
def test_the_pattern_takes_only_real_ipv6_addresses(address: str) -> None:
    ipaddress.IPv6Address(address)


def test_the_lookalikes_are_every_character_that_normalizes_into_a_delimiter() -> None:
    """``urlsplit`` refuses a host holding one; the list is written out for the schema's sake."""
    found = "".join(
        c
        for c in map(chr, range(0xA1, 0x110000))
        if not 0xD800 <= ord(c) <= 0xDFFF
        and any(d in unicodedata.normalize("NFKC", c) for d in "/?#@:")
    )
    assert found == links.LOOKALIKES


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/watch?v=1#t=30",
        "HTTP://Example.COM",
        "example.com/watch?v=1",
        "http://user:pass@127.0.0.3:8080/x",
        "http://[::ffff:127.0.0.3]:9/",
        "http://１２７.０.０.３/",
        "https://例え.テスト/パス?q=値",
        "http://a.b:65535/",
        " https://example.com/",
        "https://example.com/\n",
        "\u3000example.com/v\t",
    ],
)
def test_links_the_pattern_takes(url: str) -> None:
    assert re.fullmatch(LINK_PATTERN, url) and ECMA.is_valid(url)
    check_link(url)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("0", errors.LinkInvalid),
        ("not a link", errors.LinkInvalid),
        ("https://example.com/ a", errors.LinkInvalid),
        ("https://exa mple.com/", errors.LinkInvalid),
        ("\x00https://example.com/", errors.LinkInvalid),
        ("https://example.com/a\x00b", errors.LinkInvalid),
        ("https://example.com/a\x1cb", errors.LinkInvalid),
        ("http://a.b:0/", errors.LinkInvalid),
        ("http://a.b:65536/", errors.LinkInvalid),
        ("http://[zz]/", errors.LinkInvalid),
        ("http://a\uff0fb/", errors.LinkInvalid),
        ("example.com?q=a:b", errors.LinkUnsupported),
        ("mailto:a@b.c", errors.LinkUnsupported),
        ("ftp://example.com/a.mp4", errors.LinkUnsupported),
    ],
)
def test_links_the_pattern_refuses(url: str, error: type[errors.LinkError]) -> None:
    assert not re.fullmatch(LINK_PATTERN, url) and not ECMA.is_valid(url)
    with pytest.raises(error):
        check_link(url)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/resolve", {"url": "0"}),
        ("POST", "/api/v1/download", {"url": "0"}),
        ("POST", "/api/v1/resolve", {"url": " http://127.0.0.3/ x"}),
        ("GET", "/api/v1/resolve/events?url=0", None),
    ],
)
async def test_the_native_api_refuses_what_the_pattern_refuses(
    client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    r = await client.request(method, path, json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "link.invalid")


async def test_the_schema_publishes_the_pattern(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    models = schema["components"]["schemas"]
    for model in ("ResolveRequest", "DownloadRequest"):
        assert models[model]["properties"]["url"]["pattern"] == LINK_PATTERN
    cobalt = schema["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]
    assert cobalt["schema"]["properties"]["url"]["pattern"] == LINK_PATTERN
    events = schema["paths"]["/api/v1/resolve/events"]["get"]["parameters"]
    assert next(p for p in events if p["name"] == "url")["schema"]["pattern"] == LINK_PATTERN
