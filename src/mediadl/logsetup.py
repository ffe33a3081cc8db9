"""How the long-running processes log: text lines or JSON lines, each naming its request.

``mediadl serve``, ``mediadl worker`` and a job's own process call :func:`configure` with
``log_format`` (``text``, the default, or ``json``: one object per line for a log collector).

A request id follows one piece of work: the server takes it from a sane ``X-Request-ID`` header
or makes one (:func:`accept_request_id`), stores it with a job it creates, and the worker and the
job's process set it again (:func:`bind_request_id`) while they run that job, so one ``grep`` over
every replica's and worker's logs finds the whole story. It lives in a context variable: every
line logged by the task (or the thread) that serves the work carries it, with no argument passed.

Standard ``logging`` and a small formatter, not a logging library: uvicorn, huey and yt-dlp all
log through ``logging``, so one handler on the root logger formats every line of the process.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "TEXT_FORMAT",
    "JsonFormatter",
    "TextFormatter",
    "accept_request_id",
    "bind_request_id",
    "configure",
    "current_request_id",
    "new_request_id",
    "reset_request_id",
    "sane_request_id",
]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_REQUEST_ID = 128
_SANE_ID = re.compile(rf"[A-Za-z0-9._:+/=-]{{1,{MAX_REQUEST_ID}}}")
"""What an incoming id may hold: enough for UUIDs and tracing ids, nothing that could forge a
log line (no spaces, quotes or control characters)."""

_request_id: ContextVar[str | None] = ContextVar("mediadl_request_id", default=None)

_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
"""uvicorn's access record's arguments, in order (``%s - "%s %s HTTP/%s" %d``)."""
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's message with terminal colours
}


def new_request_id() -> str:
    """64 random bits in hex: unique enough to grep for across every process of a site."""
    return secrets.token_hex(8)


def sane_request_id(value: str | None) -> str | None:
    """``value`` when it is a usable id (bounded, safe characters), else ``None``."""
    if value is None or _SANE_ID.fullmatch(value) is None:
        return None
    return value


def accept_request_id(incoming: str | None) -> str:
    """The id of a new request: the client's (a proxy's) when sane, else a new one; bound to
    the current context."""
    rid = sane_request_id(incoming) or new_request_id()
    _request_id.set(rid)
    return rid


def bind_request_id(rid: str | None) -> Token[str | None]:
    """Name ``rid`` in this context's lines (a worker's thread running a job); give the token
    to ``reset_request_id`` when done."""
    return _request_id.set(sane_request_id(rid))


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT`, with ``[request <id>]`` after the message when a request id is set,
    so the text lines of one request can be found with one ``grep`` too."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        rid = getattr(record, "request_id", None) or _request_id.get()
        return f"{line} [request {rid}]" if rid else line


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``request_id``, the access log's fields for uvicorn's access lines, any ``extra=`` fields,
    and ``exception`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            out.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure(log_format: str, level: int | str) -> None:
    """One handler on the root logger, on stderr, for every line of this process."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
