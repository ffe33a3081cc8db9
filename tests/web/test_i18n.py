"""The message catalogs: complete, in step, used, and a message for every error code."""

from __future__ import annotations

import re
import string
from importlib import resources

import pytest

import mediadl.service.problems  # noqa: F401 - registers the service's own error codes
from mediadl.errors import error_classes
from mediadl.web import LANGUAGES, catalog
from mediadl.web.i18n import parse_accept_language, pick_language

WEB = resources.files("mediadl.web")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_catalog_has_the_same_keys_and_placeholders() -> None:
    en = catalog("en").messages
    for lang in LANGUAGES:
        other = catalog(lang).messages
        assert set(other) == set(en), lang
        for key, text in other.items():
            assert placeholders(text) == placeholders(en[key]), (lang, key)
            assert text.strip() == text and text, (lang, key)


def test_turkish_is_a_translation() -> None:
    en, tr = catalog("en").messages, catalog("tr").messages
    same = {key for key in en if en[key] == tr[key]}
    assert len(same) < len(en) // 10, same
    assert any(ch in "çğıöşüİ" for ch in "".join(tr.values()))


def test_every_error_code_has_words_in_every_language() -> None:
    codes = {cls.code for cls in error_classes()}
    assert {"link.invalid", "link.unsupported", "fetch.rate", "tunnel.expired"} <= codes
    for lang in LANGUAGES:
        t = catalog(lang)
        for key in ("error.generic", "error.network", *(f"error.{code}" for code in codes)):
            assert t(key), (lang, key)


def test_counted_phrases_come_in_pairs() -> None:
    for key in catalog("en").messages:
        stem, _, form = key.rpartition(".")
        if form in ("one", "other"):
            assert {f"{stem}.one", f"{stem}.other"} <= set(catalog("en").messages)
    assert catalog("en")("list.download", count=1) == "Download 1 file"
    assert catalog("en")("list.download", count=3) == "Download 3 files"
    assert catalog("tr")("list.download", count=3) == "3 dosyayı indir"


def _template_keys() -> set[str]:
    used: set[str] = set()
    for template in sorted((WEB / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"\{\{\s*t:([\w.-]+)\s*\}\}", text))
    return used


def _script_strings(pattern: str) -> set[str]:
    found: set[str] = set()
    for entry in (WEB / "static").iterdir():
        if entry.name.endswith(".js"):
            found |= set(re.findall(pattern, entry.read_text(encoding="utf-8")))
    return found


def test_every_message_the_page_asks_for_exists() -> None:
    messages = set(catalog("en").messages)
    stems = {key.rpartition(".")[0] for key in messages if key.endswith((".one", ".other"))}
    asked = _template_keys() | _script_strings(r"\bt\('([\w.-]+)'")
    assert asked - messages - stems == set()


def test_every_message_is_used() -> None:
    messages = set(catalog("en").messages)
    used = _template_keys() | _script_strings(r"'([\w.-]+)'")
    dynamic = (
        "error.",
        "choice.audio.",
        "list.state.",
        "lang.name",
        "sites.status.",
        "sites.limit.",
    )
    unused = {
        key
        for key in messages
        if key not in used and key.rpartition(".")[0] not in used and not key.startswith(dynamic)
    }
    # filled in by Python: the count; the chips' words
    assert unused == {"sitespage.lead", "sites.example"}


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ("tr-TR,tr;q=0.9,en;q=0.8", ["tr-TR", "tr", "en"]),
        ("en;q=0.5, tr", ["tr", "en"]),
        ("tr;q=0, en", ["en"]),
        ("*;q=0.1, de", ["de", "*"]),
        ("en;q=oops, tr", ["tr"]),
        (None, []),
    ],
)
def test_parse_accept_language(header: str | None, tags: list[str]) -> None:
    assert parse_accept_language(header) == tags


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "lang"),
    [
        ("tr", "en", "en", "tr"),
        (None, "tr", "en", "tr"),
        ("xx", None, "tr-TR", "tr"),
        (None, "zz", "de, tr;q=0.4", "tr"),
        (None, None, "de, *;q=0.5, tr;q=0.4", "en"),
        (None, None, None, "en"),
        ("TR_tr", None, None, "tr"),
    ],
)
def test_pick_language(
    query: str | None, cookie: str | None, accept: str | None, lang: str
) -> None:
    assert pick_language(query, cookie, accept) == lang
