"""The "Works with" chips: one per named site, with its status, a monogram and a link shape.

Each chip is a ``<details>`` disclosure (keyboard and screen reader friendly without a script):
its summary names the site, shows "with limits" or "unavailable" in words, and carries the reason
as text (shown as a tooltip on hover and focus); opened, it shows the shape of link to paste, or
why the site's links can't be downloaded. The monogram is the site's initials on a colour of our
own, drawn inline: no logo, no request anywhere.
"""

from __future__ import annotations

import colorsys
import re
import zlib
from collections.abc import Sequence

from mediadl.sites.catalog import Site
from mediadl.web.i18n import Catalog
from mediadl.web.template import escape

__all__ = ["chips", "initials", "monogram_colour", "reason"]

_WORD = re.compile(r"[^\W_]+")


def initials(title: str) -> str:
    """Two letters: ``YouTube`` → ``YT``, ``Akıllı TV`` → ``AT``, ``iFunny`` → ``iF``.

    One word without capitals inside gives its first two letters (``Vimeo`` → ``Vi``).
    """
    words: list[str] = _WORD.findall(title)
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    word = words[0] if words else title or "?"
    capitals = [c for c in word[1:] if c.isupper()]
    if word.isupper() or word[0].isdigit():
        return word[:2].upper()
    if capitals:
        return word[0] + capitals[0]
    return word[:2]


def monogram_colour(title: str) -> str:
    """A dark colour of our own for ``title`` (stable across runs), under white letters."""
    hue = zlib.crc32(title.encode()) % 360 / 360
    r, g, b = colorsys.hls_to_rgb(hue, 0.32, 0.55)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _monogram(title: str) -> str:
    return (
        '<svg class="glyph" viewBox="0 0 28 28" aria-hidden="true" focusable="false">'
        f'<rect width="28" height="28" rx="8" fill="{monogram_colour(title)}"/>'
        f'<text x="14" y="18.6" text-anchor="middle" fill="#fff">{escape(initials(title))}</text>'
        "</svg>"
    )


def reason(site: Site, t: Catalog) -> str | None:
    """Why a site is limited or unavailable, in the page's language (``None`` when readable)."""
    if site.status == "limited" and site.limit:
        return t(f"sites.limit.{site.limit}")
    if site.status == "unavailable" and site.error:
        specific = f"error.{site.error}.{site.extractor.lower()}"
        return t(specific) if specific in t.messages else t(f"error.{site.error}")
    return None


def _chip(site: Site, t: Catalog) -> str:
    why = reason(site, t)
    badge = (
        f' <span class="site-status">{escape(t(f"sites.status.{site.status}"))}</span>'
        if site.status != "readable"
        else ""
    )
    tip = f' <span class="site-why">{escape(why)}</span>' if why else ""
    if site.status == "unavailable":
        more = f'<p class="site-reason">{escape(why or "")}</p>'
        shape = ""
    else:
        more = (
            f"<p>{escape(t('sites.example'))}</p>"
            f'<p><code class="site-shape">{escape(site.shape)}</code></p>'
        )
        shape = f' data-shape="{escape(site.shape)}"'
    return (
        f'<li class="chip" data-status="{site.status}"><details{shape}>'
        f'<summary>{_monogram(site.title)}<span class="site-name">{escape(site.title)}</span>'
        f"{badge}{tip}</summary>"
        f'<div class="site-more">{more}</div></details></li>'
    )


def chips(catalog: Sequence[Site], t: Catalog) -> str:
    """The list items of the "Works with" section, in the catalogue's order."""
    return "".join(_chip(site, t) for site in catalog)
