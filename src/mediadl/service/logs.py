"""Logs without secrets: signed links, API keys and credentials in URLs never reach a log line.

:func:`redact_url` keeps what helps reading a log (scheme, host, path, parameter names, short
values) and drops the rest: user info, and every query value longer than a few characters (a
tunnel token ``t=``, an API key ``key=``, a site's signature). :class:`RedactingFilter` applies it
to uvicorn's access log, whose lines carry the full request target.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["RedactingFilter", "install_redaction", "redact_url"]

KEEP_VALUE = 8
"""Query values up to this many characters stay readable (``p=1``, ``item=3``)."""
REDACTED = "…"


def redact_url(url: str) -> str:
    """``url`` without credentials and without long query values."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return REDACTED
    safe = [(k, v if len(v) <= KEEP_VALUE else REDACTED) for k, v in query]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(safe, safe=REDACTED), ""))


class RedactingFilter(logging.Filter):
    """Redacts every string argument of a record that looks like a URL or a request target."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        return True


def _redact_arg(value: object) -> object:
    if (
        isinstance(value, str)
        and ("?" in value or "@" in value)
        and (value.startswith("/") or "://" in value)
    ):
        return redact_url(value)
    return value


def install_redaction(*names: str) -> None:
    """Add the filter to the named loggers (default: uvicorn's access and error logs)."""
    for name in names or ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
