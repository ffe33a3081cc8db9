"""Extraction in a killable child process: the server's bound on time and memory of reading a link.

yt-dlp can't be stopped from outside while it extracts (a page that drips one byte a second, a
manifest that expands to millions of fragments, a pathological regex), so the server runs each
extraction in its own process and kills it at the deadline (``extract_timeout``); its data is
capped (``extract_memory``), so a bomb fails there with ``content.too_large`` instead of taking
the server's memory.

Why ``RLIMIT_DATA`` and not ``RLIMIT_AS``: the address-space limit also counts reservations that
use no memory, and the JavaScript runtime YouTube's challenges need (V8, in deno or node) reserves
~36 GiB of inaccessible address space at start: under a 1 GiB ``RLIMIT_AS`` it aborts at once.
The data limit counts what a bomb actually takes (heap, private writable mappings) and leaves
those ``PROT_NONE`` reservations alone. Limits are per process and inherited, so the runtime gets
the same budget of its own (see :mod:`mediadl.engine.jsruntime`).

Why a process per extraction and not a socket deadline: a deadline on sockets bounds waiting, not
work — an MPD bomb or a runaway regex burns CPU and memory with no socket in sight. Why one fresh
process per extraction and not a reused pool: killing a ``ProcessPoolExecutor`` worker breaks the
whole pool, and a fresh process leaves nothing behind. The cost is kept small by a ``forkserver``
that imports yt-dlp and compiles its ~1,800 URL patterns once
(:mod:`mediadl.engine.sandbox_warm`): each extraction then forks an already warm process
(about 10–30 ms, against 0.3–0.9 s for a cold one). The answer is returned as soon as the child
sends it; the child's exit (its interpreter's teardown, 5–20 ms) is waited for in the background,
and a child still there after two seconds is killed with its group.

Why ``PYTHONSAFEPATH``: multiprocessing starts its forkserver (and its resource tracker) with
``python -c``, which puts the working directory first on ``sys.path``, so a ``limits.py`` or
``yt_dlp.py`` in the folder the server was started from would run inside every extraction. The
variable (Python 3.11's ``-P``) keeps that folder off ``sys.path`` in those processes; the
forkserver then moves to ``/`` (:mod:`mediadl.engine.sandbox_warm`), so no extraction reads or
writes relative to wherever the server happened to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from yt_dlp.extractor.common import InfoExtractor

from mediadl import errors
from mediadl.engine.cookies import configured_cookies, remember_cookies
from mediadl.logsetup import bind_request_id, configure, current_request_id
from mediadl.models import CookieRecord, MediaInfo
from mediadl.settings import Settings

__all__ = ["ExtractorPool", "preload"]

log = logging.getLogger("mediadl.sandbox")

WARM_MODULE = "mediadl.engine.sandbox_warm"


class ExtractorPool:
    """``await pool.resolve(url)``: ``resolve`` in a fresh child, at most ``workers`` at once.

    The child's own errors come back as they are; past ``extract_timeout`` the child's process
    group is killed (``fetch.timeout``); out of memory it fails with ``content.too_large``.
    """

    def __init__(
        self, settings: Settings, extractors: Sequence[type[InfoExtractor]] = (), *, workers: int
    ) -> None:
        self.settings = _absolute(settings)
        self.extractors = tuple(extractors)
        self.cookies = configured_cookies(settings)
        """Read here, at start (``config.cookies`` if it can't be); each child gets them as
        read, so a file changed or gone later doesn't change what extractions send."""
        self._slots = asyncio.Semaphore(workers)
        self._reaping: set[asyncio.Task[int | None]] = set()
        self._mp = multiprocessing.get_context("forkserver")
        self._mp.set_forkserver_preload(preload(self.extractors))

    async def start(self) -> None:
        """Start the warm forkserver (seconds, once per process) without blocking the loop."""
        from multiprocessing import forkserver

        os.environ["PYTHONSAFEPATH"] = "1"  # before the first ``python -c`` (see above)
        await asyncio.to_thread(forkserver.ensure_running)

    async def resolve(self, url: str, *, playlist: bool = True) -> MediaInfo:
        async with self._slots:
            await self.start()
            return await self._run(url, playlist)

    async def _run(self, url: str, playlist: bool) -> MediaInfo:
        receive, send = self._mp.Pipe(duplex=False)
        args = (send, self.settings, self.extractors)
        kwargs = {
            "url": url,
            "playlist": playlist,
            "cookies": self.cookies,
            "request_id": current_request_id(),  # its lines name the request, in this format
            "log_level": logging.getLogger().getEffectiveLevel(),
        }
        proc = self._mp.Process(
            target=_child, args=args, kwargs=kwargs, daemon=True, name="mediadl-extract"
        )
        try:
            proc.start()
        finally:
            send.close()
        try:
            message = await self._receive(receive, proc.pid)
        except BaseException:
            receive.close()
            await _reap(proc, 0)
            raise
        receive.close()
        if _answered(message):  # the answer needn't wait for the child's exit
            reaping = asyncio.create_task(_reap(proc, 2))
            self._reaping.add(reaping)
            reaping.add_done_callback(self._reaping.discard)
            return _unpack(message, url, None)
        return _unpack(message, url, await _reap(proc, 2))

    async def close(self) -> None:
        """Wait for the children that answered to be gone (each within seconds)."""
        await asyncio.gather(*self._reaping, return_exceptions=True)

    async def _receive(self, conn: Connection, pid: int | None) -> Any:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        loop.add_reader(conn.fileno(), ready.set)
        try:
            await asyncio.wait_for(ready.wait(), self.settings.extract_timeout)
        except TimeoutError:
            log.info("extraction %s killed after %.0f s", pid, self.settings.extract_timeout)
            raise errors.FetchTimeout(
                "The site took too long to answer. Please try again in a moment."
            ) from None
        finally:
            loop.remove_reader(conn.fileno())
        try:
            return await asyncio.to_thread(conn.recv)
        except (EOFError, OSError):
            return None  # the child died without a word (killed, out of memory)


def preload(extractors: Sequence[type[InfoExtractor]]) -> list[str]:
    """What the forkserver imports once: the warm-up, then the modules of ``extractors``, which
    each child would otherwise import again when it unpickles them (about 20 ms for mediadl's
    own sites)."""
    modules = dict.fromkeys(ie.__module__ for ie in extractors if ie.__module__ != "__main__")
    return [WARM_MODULE, *modules]


async def _reap(proc: BaseProcess, grace: float) -> int | None:
    """Wait ``grace`` seconds for ``proc`` to end, then kill its group; its exit code."""
    await asyncio.to_thread(proc.join, grace)
    if proc.exitcode is None:  # still running: stop it and whatever it started
        _kill_group(proc.pid)
        await asyncio.to_thread(proc.join, 5)
    exitcode = proc.exitcode
    with contextlib.suppress(ValueError):
        proc.close()
    return exitcode


def _answered(message: Any) -> bool:
    return isinstance(message, tuple) and message[:1] in (("ok",), ("error",))


def _absolute(settings: Settings) -> Settings:
    """``settings`` with an absolute data directory: extractions run from ``/``."""
    if settings.data_dir.is_absolute():
        return settings
    return settings.model_copy(update={"data_dir": settings.data_dir.absolute()})


def _unpack(message: Any, url: str, exitcode: int | None) -> MediaInfo:
    if isinstance(message, tuple) and message[0] == "ok" and isinstance(message[1], MediaInfo):
        return message[1]
    if isinstance(message, tuple) and message[0] == "error":
        _, name, text, context = message
        cls = next((c for c in errors.error_classes() if c.__name__ == name), errors.InternalError)
        raise cls(text, **context)
    if exitcode is not None and exitcode < 0 and -exitcode in (signal.SIGKILL, signal.SIGSEGV):
        raise _out_of_memory(url)
    log.error("extraction of %s ended without an answer (exit %s)", url, exitcode)
    raise errors.InternalError()


def _out_of_memory(url: str) -> errors.ContentTooLarge:
    return errors.ContentTooLarge(
        "Reading this page needs more memory than this server allows.", url=url
    )


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _child(
    conn: Connection,
    settings: Settings,
    extractors: tuple[type[InfoExtractor], ...],
    *,
    url: str,
    playlist: bool,
    cookies: tuple[CookieRecord, ...],
    request_id: str | None = None,
    log_level: int = logging.WARNING,
) -> None:
    """In the child: own process group, capped data, one extraction, one message back."""
    os.setsid()
    configure(settings.log_format, log_level)  # on the server's stderr, like its own lines
    bind_request_id(request_id)
    limit = settings.extract_memory
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    from mediadl.engine.extract import resolve

    remember_cookies(settings, cookies)

    message: tuple[Any, ...]
    try:
        message = ("ok", resolve(url, settings, extractors=extractors, playlist=playlist))
    except errors.MediadlError as exc:
        message = ("error", type(exc).__name__, exc.message, _plain(exc.context))
    except MemoryError:
        oom = _out_of_memory(url)
        message = ("error", type(oom).__name__, oom.message, _plain(oom.context))
    except Exception:  # a bug: its traceback goes to this process's log
        logging.getLogger("mediadl.sandbox").exception("extraction of %s failed", url)
        message = ("error", "InternalError", errors.InternalError.default_message, {})
    try:
        conn.send(message)
    except MemoryError:
        oom = _out_of_memory(url)
        conn.send(("error", type(oom).__name__, oom.message, _plain(oom.context)))
    finally:
        conn.close()


def _plain(context: dict[str, Any]) -> dict[str, Any]:
    """Context that survives pickling as plain data."""
    return {k: v for k, v in context.items() if isinstance(v, (str, int, float, bool, list))}
