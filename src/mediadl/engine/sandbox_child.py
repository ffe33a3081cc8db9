"""One extraction process (:mod:`mediadl.engine.sandbox`), from its fork to its one answer.

Forked from the warm forkserver before any link is known, it first does everything that needs no
link: its own process group (so a kill at the deadline takes whatever it started), its memory
cap, logging, the cookies as the server read them and a ``YoutubeDL`` built for the server's
options (:class:`~mediadl.engine.ready_ydl.ReadyYdl`). Then it waits on its pipe for one request,
runs that extraction, sends one message back and ends: a process serves one extraction, never a
second. The end of the pipe is how it learns the server is gone (stopped, or killed outright):
it leaves without extracting anything.
"""

from __future__ import annotations

import logging
import os
import resource
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from yt_dlp.extractor.common import InfoExtractor

from mediadl import errors
from mediadl.engine.cookies import remember_cookies
from mediadl.engine.extract import resolve
from mediadl.engine.ready_ydl import ReadyYdl
from mediadl.logsetup import bind_request_id, configure
from mediadl.models import CookieRecord
from mediadl.settings import Settings

__all__ = ["Request", "out_of_memory", "serve_one"]

log = logging.getLogger("mediadl.sandbox")


class Request(NamedTuple):
    """What the server hands a waiting process: the link and what may differ per request."""

    url: str
    playlist: bool
    request_id: str | None
    """Its log lines name the request, in the server's format."""
    log_level: int


def serve_one(
    conn: Connection,
    settings: Settings,
    extractors: tuple[type[InfoExtractor], ...],
    cookies: tuple[CookieRecord, ...],
    log_level: int = logging.WARNING,
) -> None:
    """In the child: set up, wait for one :class:`Request` on ``conn``, answer it, end."""
    os.setsid()
    configure(settings.log_format, log_level)  # on the server's stderr, like its own lines
    limit = settings.extract_memory
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    remember_cookies(settings, cookies)
    ready = _prepare(settings, extractors)
    try:
        request = Request(*conn.recv())
    except (EOFError, OSError):  # the server closed the pipe or is gone: nothing to do
        return
    bind_request_id(request.request_id)
    if request.log_level != log_level:
        logging.getLogger().setLevel(request.log_level)
    try:
        _answer(conn, _extract(request, settings, extractors, ready), request.url)
    finally:
        if ready is not None:
            ready.close()
        conn.close()


def _prepare(settings: Settings, extractors: tuple[type[InfoExtractor], ...]) -> ReadyYdl | None:
    """The ``YoutubeDL`` for a request with the default options (a playlist's entries listed);
    none when it can't be built: the extraction builds its own, and meets the same error there."""
    ready = None
    try:
        ready = ReadyYdl(settings, extractors, noplaylist=False)
        ready.warm()
    except Exception:  # MemoryError too: it surfaces again, in the extraction's answer
        log.debug("building a YoutubeDL ahead of the link failed", exc_info=True)
        if ready is not None:
            ready.close()
        return None
    return ready


def _extract(
    request: Request,
    settings: Settings,
    extractors: tuple[type[InfoExtractor], ...],
    ready: ReadyYdl | None,
) -> tuple[Any, ...]:
    url = request.url
    try:
        info = resolve(url, settings, extractors=extractors, playlist=request.playlist, ready=ready)
    except errors.MediadlError as exc:
        return ("error", type(exc).__name__, exc.message, _plain(exc.context))
    except MemoryError:
        oom = out_of_memory(url)
        return ("error", type(oom).__name__, oom.message, _plain(oom.context))
    except Exception:  # a bug: its traceback goes to this process's log
        log.exception("extraction of %s failed", url)
        return ("error", "InternalError", errors.InternalError.default_message, {})
    return ("ok", info)


def _answer(conn: Connection, message: tuple[Any, ...], url: str) -> None:
    try:
        conn.send(message)
    except MemoryError:
        oom = out_of_memory(url)
        conn.send(("error", type(oom).__name__, oom.message, _plain(oom.context)))


def out_of_memory(url: str) -> errors.ContentTooLarge:
    return errors.ContentTooLarge(
        "Reading this page needs more memory than this server allows.", url=url
    )


def _plain(context: dict[str, Any]) -> dict[str, Any]:
    """Context that survives pickling as plain data."""
    return {k: v for k, v in context.items() if isinstance(v, (str, int, float, bool, list))}
