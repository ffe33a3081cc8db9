"""The page's HTTP side, in-process: negotiation at ``/``, languages, caching, static files."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from mediadl import sites
from mediadl.service import create_app
from mediadl.settings import Settings
from mediadl.sites.catalog import CATALOG
from mediadl.web import catalog
from mediadl.web.assets import bundle
from mediadl.web.chips import initials, monogram_colour, reason
from mediadl.web.template import escape

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
    names = re.findall(r'<span class="site-name">([^<]+)</span>', text)
    assert names == [site.title for site in CATALOG]
    assert len(names) == 45
    assert 'href="/sites"' in text


class Chips(HTMLParser):
    """Each chip of the "Works with" list: status, words of its summary, what it opens."""

    def __init__(self) -> None:
        super().__init__()
        self.chips: list[dict[str, str]] = []
        self._where: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "li" and attr.get("class") == "chip":
            self.chips.append({"status": attr.get("data-status") or "", "summary": "", "more": ""})
        elif tag == "details" and self.chips:
            self.chips[-1]["shape"] = attr.get("data-shape") or ""
        elif tag == "summary" and self.chips:
            self._where.append("summary")
        elif tag == "svg":
            self._where.append("hidden" if attr.get("aria-hidden") == "true" else "svg")
        elif tag == "div" and attr.get("class") == "site-more":
            self._where.append("more")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("summary", "svg", "div") and self._where:
            self._where.pop()

    def handle_data(self, data: str) -> None:
        if self.chips and self._where and self._where[-1] in ("summary", "more"):
            self.chips[-1][self._where[-1]] += data


@pytest.mark.parametrize("lang", ["en", "tr"])
async def test_each_chip_says_its_status_in_words_and_opens_its_link_shape(
    client: httpx.AsyncClient, lang: str
) -> None:
    text = (await client.get(f"/?lang={lang}", headers=BROWSER)).text
    t = catalog(lang)
    parser = Chips()
    parser.feed(text)
    assert len(parser.chips) == len(CATALOG)
    for chip, site in zip(parser.chips, CATALOG, strict=True):
        assert chip["status"] == site.status
        assert chip["summary"].startswith(site.title)  # the monogram is hidden from readers
        if site.status == "readable":
            assert chip["summary"] == site.title
        else:
            assert t(f"sites.status.{site.status}") in chip["summary"]
            assert reason(site, t) in chip["summary"]  # read aloud with the name
        if site.status == "unavailable":
            assert chip["shape"] == "" and reason(site, t) in chip["more"]
        else:
            assert chip["shape"] == site.shape and site.shape in chip["more"]


async def test_unavailable_sites_say_what_happened_to_them(client: httpx.AsyncClient) -> None:
    en = (await client.get("/?lang=en", headers=BROWSER)).text
    tr = (await client.get("/?lang=tr", headers=BROWSER)).text
    assert "BluTV is now HBO Max" in en and "BluTV artık HBO Max oldu" in tr
    assert "moved to Moj" in en and "Moj&#x27;a taşındı" in tr
    assert "Gaana now streams only to signed-in subscribers" in en


def test_monograms_are_our_own_initials_and_colours() -> None:
    assert [initials(t) for t in ("YouTube", "Akıllı TV", "iFunny", "9GAG", "VK", "Vimeo")] == [
        "YT",
        "AT",
        "iF",
        "9G",
        "VK",
        "Vi",
    ]
    colours = {monogram_colour(site.title) for site in CATALOG}
    assert len(colours) > 30
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)


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
    own, theirs = r.text.split('id="ytdlp-title"')
    assert escape(catalog("tr")("sitespage.own")) in own
    own_titles = re.findall(r'<span class="site-title">([^<]+)</span>', own)
    assert {"BluTV", "MX TakaTak", "Gaana"} <= set(own_titles)
    assert len(own_titles) == len(sites.extractors())
    assert "YouTube" in re.findall(r'<span class="site-title">([^<]+)</span>', theirs)


@pytest.mark.parametrize(("open_", "mode"), [(False, "key"), (True, "open")])
async def test_with_jobs_on_the_page_carries_its_jobs_view(
    settings: Settings, open_: bool, mode: str
) -> None:
    keyed = settings.model_copy(
        update={
            "jobs": True,
            "jobs_open": open_,
            "api_keys": ["6f1c3a52-3c1e-4b5e-9a43-1d2b4f6a7c88"],
            "job_workers": 0,
        }
    )
    transport = httpx.ASGITransport(app=create_app(keyed))
    async with httpx.AsyncClient(transport=transport, base_url="http://mediadl.test") as client:
        r = await page(client, **{"Accept-Language": "tr"})
    tr = catalog("tr")
    assert f'data-key="{mode}"' in r.text
    assert escape(tr("jobs.title")) in r.text
    assert '<a href="#jobs-title">' in r.text
    assert '"jobs.save":' in r.text  # the scripts' words for the button


async def test_with_jobs_off_the_page_has_no_trace_of_them(client: httpx.AsyncClient) -> None:
    r = await page(client)
    assert 'id="jobs"' not in r.text
    assert 'id="key-dialog"' not in r.text
    assert '"jobs.' not in r.text
