"""The links both APIs take, as one pattern: documented in the OpenAPI schema, enforced as written.

A link is an ``http``/``https`` URL, or one pasted without its scheme (``example.com/v/1``, read
as ``https://``). The pattern is what the engine's :func:`~mediadl.engine.normalize_url` accepts,
narrowed where a regular expression can't follow it, so that everything the pattern matches is
accepted and everything else is refused: spaces and line breaks around it are trimmed (as
cobalt's API trims them), no spaces or control characters inside it; a host of
URL characters, or of non-ASCII ones (an IDN, full-width digits) other than the few that Unicode
normalization turns into ``/ ? # @ :`` (``urlsplit`` refuses those: they would move the host);
a bracketed IPv6 address; a port from 1 to 65535.

Written for every regular-expression engine that reads it (Python's ``re`` here and in the fuzzer's
generator, ECMA 262 in JSON Schema validators): no ``\\s``, whose meaning differs between them, and
only ``\\uXXXX`` escapes of the Basic Multilingual Plane.
"""

from __future__ import annotations

import re

from mediadl import errors
from mediadl.engine import normalize_url

__all__ = ["LINK_PATTERN", "MAX_LINK_LENGTH", "TRIMMED", "check_link"]

MAX_LINK_LENGTH = 4096

_UNICODE_SPACES = r"\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACES = rf"\x00-\x20\x7f-\xa0{_UNICODE_SPACES}"
"""Controls and every character ``str.isspace`` calls a space (``normalize_url`` refuses them)."""
LOOKALIKES = (
    "\u2047\u2048\u2049\u2100\u2101\u2105\u2106\u2a74"
    "\ufe13\ufe16\ufe55\ufe56\ufe5f\ufe6b\uff03\uff0f\uff1a\uff1f\uff20"
)
"""Characters whose NFKC form holds ``/ ? # @ :``: ``urlsplit`` refuses them in a host."""

_LOOKALIKE_ESCAPES = "".join(f"\\u{ord(c):04x}" for c in LOOKALIKES)
_HOST_CHAR = rf"(?:[A-Za-z0-9\-._~%!$&'()*+,;=]|[^\x00-\xa0{_UNICODE_SPACES}{_LOOKALIKE_ESCAPES}])"
_HEX = "[0-9A-Fa-f]{1,4}"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_IPV6 = "|".join(
    (
        rf"(?:{_HEX}:){{7}}{_HEX}",
        rf"(?:{_HEX}:){{6}}{_IPV4}",
        rf"(?:{_HEX}:){{1,7}}:",
        rf"(?:{_HEX}:){{1,6}}:{_HEX}",
        rf"(?:{_HEX}:){{1,5}}(?::{_HEX}){{1,2}}",
        rf"(?:{_HEX}:){{1,4}}(?::{_HEX}){{1,3}}",
        rf"(?:{_HEX}:){{1,3}}(?::{_HEX}){{1,4}}",
        rf"(?:{_HEX}:){{1,2}}(?::{_HEX}){{1,5}}",
        rf"{_HEX}:(?::{_HEX}){{1,6}}",
        rf":(?::{_HEX}){{1,7}}",
        "::",
        rf"::(?:{_HEX}:){{0,5}}{_IPV4}",
        rf"(?:{_HEX}:){{1,5}}:{_IPV4}",
    )
)
_PORT = (
    "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
)
_REST = f"(?:[/?#][^{_SPACES}]*)?"
_USERINFO = r"(?:[A-Za-z0-9\-._~%!$&'()*+,;=:]*@)?"
_WITH_SCHEME = (
    rf"[Hh][Tt][Tt][Pp][Ss]?://{_USERINFO}(?:{_HOST_CHAR}+|\[(?:{_IPV6})\]){_PORT}{_REST}"
)
_WITHOUT_SCHEME = rf"(?![^{_SPACES}]*://){_HOST_CHAR}*\.{_HOST_CHAR}*{_PORT}(?:/[^{_SPACES}]*)?"
"""A host name with a dot, then a path; no ``://`` further on (that would be read as a scheme)."""

TRIMMED = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0" + "".join(
    chr(c) for c in (0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)
"""What is trimmed around a link (every character ``str.isspace`` calls a space), as cobalt's
API does: a link copied with a space or a line break after it is still the link."""
_AROUND = r"[\t-\r\x1c-\x20\x85\xa0" + _UNICODE_SPACES + "]*"

LINK_PATTERN = f"^{_AROUND}(?:{_WITH_SCHEME}|{_WITHOUT_SCHEME}){_AROUND}$"
"""The form of ``url`` in every request, as the OpenAPI schema publishes it."""
_LINK = re.compile(f"(?:{_WITH_SCHEME}|{_WITHOUT_SCHEME})")


def check_link(url: str) -> str:
    """``url`` trimmed and normalized, or the error that names what is wrong with it.

    The engine's verdict comes first, as its errors are the more precise ones (``mailto:`` is
    ``link.unsupported``); a link it would take in a form the pattern doesn't publish (a space or
    a control character inside it) is ``link.invalid``, as the schema promises.
    """
    text = url.strip(TRIMMED)
    clean = normalize_url(text)
    if _LINK.fullmatch(text) is None:
        raise errors.LinkInvalid(url=text[:200])
    return clean
