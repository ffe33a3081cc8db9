"""A very small template language for the two HTML pages.

``{{t:key}}`` is a message of the page's catalog, HTML-escaped; ``{{name}}`` is a slot the caller
fills with HTML it built (and escaped) itself. A missing message or slot is an error, not a blank.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping
from importlib import resources

from mediadl.web.i18n import Catalog

__all__ = ["escape", "load_template", "render"]

_MARK = re.compile(r"\{\{\s*(?:t:(?P<key>[\w.-]+)|(?P<slot>\w+))\s*\}\}")


def escape(text: str) -> str:
    return html.escape(text, quote=True)


@functools.cache
def load_template(name: str) -> str:
    return (resources.files("mediadl.web") / "templates" / name).read_text(encoding="utf-8")


def render(template: str, t: Catalog, slots: Mapping[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        if key := match.group("key"):
            return escape(t(key))
        return slots[match.group("slot")]

    return _MARK.sub(fill, template)
