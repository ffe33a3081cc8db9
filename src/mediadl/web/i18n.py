"""The page's languages: message catalogs and which one a request gets.

A request's language is, in order: ``?lang=xx`` (the switcher's links; remembered in a cookie),
the ``lang`` cookie, the best match in ``Accept-Language``, then English. Catalogs are flat JSON
objects (``"error.fetch.rate": "…"``) with ``{name}`` placeholders; counted phrases come as a
``.one`` / ``.other`` pair chosen by the plural rule of the language.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources

from mediadl.web.accept import quality_list

__all__ = [
    "COOKIE",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Catalog",
    "catalog",
    "parse_accept_language",
    "pick_language",
    "supported",
]

LANGUAGES: tuple[str, ...] = ("en", "tr")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"


class Catalog:
    """The strings of one language."""

    def __init__(self, lang: str, messages: Mapping[str, str]) -> None:
        self.lang = lang
        self.messages = dict(messages)

    def __call__(self, key: str, **values: object) -> str:
        """The message ``key`` with its ``{name}`` placeholders filled (``KeyError`` if absent)."""
        if "count" in values and f"{key}.other" in self.messages:
            key = f"{key}.{self._plural(values['count'])}"
        text = self.messages[key]
        return text.format_map(values) if values else text

    def _plural(self, count: object) -> str:
        # English and Turkish both say "one" for exactly 1 (Turkish never changes the noun).
        return "one" if count == 1 else "other"

    def to_json(self, *, skip: tuple[str, ...] = ()) -> str:
        """The catalog for the page's scripts, safe inside ``<script type=application/json>``;
        without the messages whose keys start with one of ``skip`` (words it never shows)."""
        messages = {k: v for k, v in self.messages.items() if not skip or not k.startswith(skip)}
        text = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.cache
def catalog(lang: str) -> Catalog:
    """The catalog of ``lang`` (one of :data:`LANGUAGES`), read once from the package."""
    if lang not in LANGUAGES:
        raise KeyError(lang)
    path = resources.files("mediadl.web") / "messages" / f"{lang}.json"
    messages = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(messages, dict) or not all(isinstance(v, str) for v in messages.values()):
        raise ValueError(f"{lang}.json must be an object of strings")
    return Catalog(lang, messages)


def supported(tag: str | None) -> str | None:
    """The language of ``tag`` (``tr``, ``tr-TR``, ``EN_us``) if the page has it."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (``q=0`` means "not this")."""
    ranked = [
        (-q, position, tag) for position, (tag, q) in enumerate(quality_list(header)) if q > 0
    ]
    return [tag for _, _, tag in sorted(ranked)]


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language a request gets: ``?lang=``, then the cookie, then ``Accept-Language``."""
    for choice in (query, cookie):
        if lang := supported(choice):
            return lang
    for tag in parse_accept_language(accept):
        if tag == "*":
            return DEFAULT_LANGUAGE
        if lang := supported(tag):
            return lang
    return DEFAULT_LANGUAGE
