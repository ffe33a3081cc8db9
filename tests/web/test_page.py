"""The page's HTTP side, in-process: negotiation at ``/``, languages, caching, static files."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from mediadl.service import create_app
from mediadl.settings import Settings
from mediadl.web import catalog
from mediadl.web.assets import bundle

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mediadl.test") as client:
        yield client


class Links(HTMLParser):
    """Every URL the page would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href", "action") and v is not None]


async def page(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    r = await client.get("/", headers=BROWSER | headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    return r


async def test_a_browser_gets_the_page_and_cobalt_its_json(client: httpx.AsyncClient) -> None:
    r = await page(client)
    en = catalog("en")
    assert '<html lang="en"' in r.text
    assert en("hero.title") in r.text
    assert f'placeholder="{en("form.placeholder")}"' in r.text
    cobalt = await client.get("/", headers={"Accept": "*/*"})
    assert cobalt.headers["content-type"] == "application/json"
    assert "cobalt" in cobalt.json()


async def test_the_page_names_the_sites_and_links_the_full_list(
    client: httpx.AsyncClient,
) -> None:
    text = (await page(client)).text
    for site in ("YouTube", "Twitter / X", "Akıllı TV", "9GAG", "Izlesene"):
        assert f"<li>{site}</li>" in text
    assert 'href="/sites"' in text


async def test_nothing_comes_from_elsewhere(client: httpx.AsyncClient) -> None:
    r = await page(client)
    policy = r.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert r.headers["referrer-policy"] == "no-referrer"
    links = Links()
    links.feed(r.text)
    assert links.urls
    for url in links.urls:
        assert url.startswith(("/", "?", "#")), url
    for name, asset in bundle().files.items():
        text = asset.body.decode("utf-8", "replace")
        found = set(re.findall(r"(?:https?:)?//[\w.-]+", text)) - {"http://www.w3.org"}
        assert not found, f"{name} names {found}"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7", "tr"),
        ("en-GB,en;q=0.9,tr;q=0.8", "en"),
        ("de-DE,de;q=0.9,tr;q=0.5", "tr"),
        ("tr;q=0,en;q=0.1", "en"),
        ("fr-FR", "en"),
        ("", "en"),
    ],
)
async def test_accept_language_picks_the_language(
    client: httpx.AsyncClient, header: str, lang: str
) -> None:
    r = await page(client, **{"Accept-Language": header})
    assert f'<html lang="{lang}"' in r.text
    assert r.headers["content-language"] == lang
    assert catalog(lang)("hero.title") in r.text


async def test_the_switcher_overrides_and_is_remembered(client: httpx.AsyncClient) -> None:
    turkish = {"Accept-Language": "tr-TR,tr;q=0.9"}
    r = await client.get("/?lang=en", headers=BROWSER | turkish)
    assert '<html lang="en"' in r.text
    assert r.cookies["lang"] == "en"
    assert "samesite=lax" in r.headers["set-cookie"].lower()
    again = await client.get("/", headers=BROWSER | turkish)  # the client sends the cookie
    assert '<html lang="en"' in again.text
    assert 'href="?lang=tr"' in again.text and 'aria-current="true">English<' in again.text
    ignored = await client.get("/?lang=xx", headers=BROWSER)
    assert '<html lang="en"' in ignored.text
    assert "set-cookie" not in ignored.headers


async def test_the_page_is_cached_by_validation_and_compressed(
    client: httpx.AsyncClient,
) -> None:
    r = await page(client, **{"Accept-Encoding": "gzip"})
    assert r.headers["cache-control"] == "private, no-cache"
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < 8000
    etag = r.headers["etag"]
    same = await client.get("/", headers=BROWSER | {"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    turkish = await client.get("/?lang=tr", headers=BROWSER | {"If-None-Match": etag})
    assert turkish.status_code == 200


async def test_static_files_are_immutable_per_version(client: httpx.AsyncClient) -> None:
    files = bundle()
    text = (await page(client)).text
    assert f'src="{files.base}/app.js"' in text and f'href="{files.base}/app.css"' in text
    r = await client.get(f"{files.base}/app.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == files.files["app.js"].body  # httpx decoded it
    assert gzip.decompress(files.files["app.js"].gzipped or b"") == r.content
    etag = r.headers["etag"]
    assert (
        await client.get(f"{files.base}/app.js", headers={"If-None-Match": etag})
    ).status_code == 304
    old = await client.get("/static/0123456789ab/app.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
    head = await client.head(f"{files.base}/app.css")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize("path", ["nothing.js", "..%2F__init__.py", "..%2F..%2Fi18n.py", ""])
async def test_unknown_static_files_are_404_in_the_error_shape(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(f"{bundle().base}/{path}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "request.not_found"


async def test_the_list_of_every_site(client: httpx.AsyncClient) -> None:
    r = await client.get("/sites", headers={"Accept-Language": "tr"})
    assert r.status_code == 200
    assert '<html lang="tr"' in r.text
    items = re.findall(r'<span class="site-title">([^<]+)</span>', r.text)
    assert len(items) > 1000
    assert "YouTube" in items and "vimeo" in items
    assert r.headers["etag"]
