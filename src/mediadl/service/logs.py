"""Logs without secrets: signed links, API keys and credentials in URLs never reach a log line.

:func:`redact_url` keeps what helps reading a log (scheme, host, path, parameter names, short
values) and drops the rest: user info, and every query value longer than a few characters (a
tunnel token ``t=``, an API key ``key=``, a site's signature). :class:`RedactingFilter` applies it
to uvicorn's access log, whose lines carry the full request target.

Each request gets an id (:func:`start_request`: a sane incoming ``X-Request-ID``, else a new one;
sent back as ``X-Request-Id``) that its log lines name (:mod:`mediadl.logsetup`). A stream cut
by an expected error is logged once, by the service, in one line; :class:`CutFilter` keeps uvicorn
from adding its own line about the unfinished response.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mediadl.logsetup import accept_request_id, current_request_id

__all__ = [
    "UNFINISHED",
    "CutFilter",
    "RedactingFilter",
    "install_log_filters",
    "install_redaction",
    "note_cut",
    "redact_url",
    "request_id",
    "start_request",
]

KEEP_VALUE = 8
"""Query values up to this many characters stay readable (``p=1``, ``item=3``)."""
REDACTED = "…"
UNFINISHED = "ASGI callable returned without completing response."
"""What uvicorn logs when a response ends before its body did (a stream cut on purpose)."""


@dataclass(slots=True)
class _Request:
    id: str
    cut_logged: bool = False


_current: ContextVar[_Request | None] = ContextVar("mediadl_request", default=None)


def start_request(incoming: str | None = None) -> str:
    """The id of the request this task serves (the task's context carries it): ``incoming``
    (the client's ``X-Request-ID``) when sane, else a new one."""
    request = _Request(accept_request_id(incoming))
    _current.set(request)
    return request.id


def request_id() -> str:
    """The id of the request being served, ``-`` outside one."""
    return current_request_id() or "-"


def note_cut() -> None:
    """This request's cut stream was logged: uvicorn needn't say it again."""
    request = _current.get()
    if request is not None:
        request.cut_logged = True


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


class CutFilter(logging.Filter):
    """Drops uvicorn's line about an unfinished response when the cut was logged already."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _current.get()
        return not (request is not None and request.cut_logged and record.msg == UNFINISHED)


def install_log_filters() -> None:
    """Everything a server's logs need: redaction, and no second line for a logged cut."""
    install_redaction()
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, CutFilter) for f in logger.filters):
        logger.addFilter(CutFilter())


def install_redaction(*names: str) -> None:
    """Add the filter to the named loggers (default: uvicorn's access and error logs)."""
    for name in names or ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
