"""The two HTML pages: the downloader at ``/`` and the list of sites at ``/sites``.

Each is rendered once per language and kept; a response only picks the language and adds headers.
The page loads nothing from anywhere but this server, and its Content-Security-Policy says so.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mediadl.sites.catalog import CATALOG
from mediadl.web.assets import Asset, asset_response, bundle
from mediadl.web.chips import chips
from mediadl.web.i18n import COOKIE, LANGUAGES, catalog, pick_language, supported
from mediadl.web.sites import extractor_sites, own_sites
from mediadl.web.template import escape, load_template, render

__all__ = ["JobsMode", "page_response", "sites_response"]

PAGE_CACHE = "private, no-cache"
"""Revalidate each time (the ETag makes that cheap): the language may come from a cookie."""
COOKIE_MAX_AGE = 365 * 86400
HTML = "text/html; charset=utf-8"


JobsMode = Literal["off", "open", "key"]
"""Whether the page offers jobs: not at all, to everyone, or to those who give an API key."""


def page_response(
    request: Request, *, api_origins: Iterable[str] = (), jobs: JobsMode = "off"
) -> Response:
    """The downloader page in the request's language.

    ``api_origins``: origins besides this one that the API's links may point at (a configured
    public ``base_url``), allowed for pictures and progress in the page's security policy.
    ``jobs``: with jobs on, the page carries its Jobs view (and so offers "Save on the server");
    with them off it is the page without them, byte for byte.
    """
    lang = _language(request)
    return _html(request, _index(lang, jobs), lang, api_origins)


async def sites_response(request: Request) -> Response:
    """Every site the engine reads, in the request's language (the first call lists them)."""
    lang = _language(request)
    if not extractor_sites.cache_info().currsize:
        await run_in_threadpool(extractor_sites)
    return _html(request, _sites(lang), lang, ())


def _language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language"),
    )


def _html(request: Request, asset: Asset, lang: str, api_origins: Iterable[str]) -> Response:
    response = asset_response(
        request,
        asset,
        cache_control=PAGE_CACHE,
        headers={
            "Content-Language": lang,
            "Content-Security-Policy": _policy(api_origins),
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Vary": "Accept, Accept-Encoding, Accept-Language, Cookie",
        },
    )
    if supported(request.query_params.get("lang")) == lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="lax")
    return response


def _policy(api_origins: Iterable[str]) -> str:
    extra = "".join(f" {origin}" for origin in sorted(set(api_origins)))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{extra}; connect-src 'self'{extra}; manifest-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@functools.cache
def _index(lang: str, jobs: JobsMode = "off") -> Asset:
    slots = {"featured": chips(CATALOG, catalog(lang)), "jobs": "", "jobs_link": ""}
    if jobs != "off":
        t = catalog(lang)
        mode = {"mode": jobs}
        slots["jobs"] = render(load_template("jobs.html"), t, mode)
        slots["jobs_link"] = render(load_template("jobs_link.html"), t, mode)
    return _page("index.html", lang, slots, skip=() if jobs != "off" else ("jobs.",))


@functools.cache
def _sites(lang: str) -> Asset:
    t = catalog(lang)
    groups = extractor_sites()
    own = own_sites()
    count = len(groups)
    return _page(
        "sites.html",
        lang,
        {
            "lead": escape(t("sitespage.lead", count=_number(lang, count))),
            "count": str(count + len(own)),
            "own": "\n".join(_item(group.title, group.names) for group in own),
            "sites": "\n".join(_item(group.title, group.names) for group in groups),
        },
    )


def _item(title: str, names: tuple[str, ...]) -> str:
    listed = " · ".join(escape(n) for n in names)
    return (
        f'<li><span class="site-title">{escape(title)}</span>'
        f' <span class="site-names">{listed}</span></li>'
    )


def _page(name: str, lang: str, slots: dict[str, str], skip: tuple[str, ...] = ()) -> Asset:
    t = catalog(lang)
    static = bundle().base
    common = {
        "lang": lang,
        "static": static,
        "messages": t.to_json(skip=skip),
        "languages": _switcher(lang),
    }
    common["header"] = render(load_template("header.html"), t, common)
    text = render(load_template(name), t, common | slots)
    return Asset.make(text.encode(), HTML)


def _switcher(current: str) -> str:
    links = []
    for lang in LANGUAGES:
        mark = ' aria-current="true"' if lang == current else ""
        label = escape(catalog(lang)("lang.name"))
        links.append(
            f'<li><a href="?lang={lang}" hreflang="{lang}" lang="{lang}"{mark}>{label}</a></li>'
        )
    return "".join(links)


def _number(lang: str, value: int) -> str:
    """Thousands grouped as the language writes them (1,251 / 1.251)."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "tr" else text
