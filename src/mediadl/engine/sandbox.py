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
(:mod:`mediadl.engine.sandbox_warm`): each extraction forks an already warm process (about
10–30 ms, against 0.3–0.9 s for a cold one).

Why spares: that fork, and the set-up that needs no link (process group, memory cap, logging, a
``YoutubeDL`` built for the server's options: 10–25 ms more), are done before the link arrives.
``spares`` processes (one by default) wait, set up, on their pipe (:mod:`.sandbox_child`); a
resolve hands its link to one and a replacement is forked in the background. Each still serves one
extraction and ends, so no state passes from one link to the next. One that dies while it waits is
replaced (after a growing pause when that keeps happening); the pool's ``close`` ends them, and a
server that dies without closing takes them along: each waits on a pipe whose other end only the
server holds, and leaves when it closes. With none waiting (a burst), a resolve forks its own, as
before. The answer is returned as soon as the child sends it; the child's exit (its interpreter's
teardown, 5–20 ms) is waited for in the background, and a child still there after two seconds is
killed with its group.

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
import signal
from collections import deque
from collections.abc import Coroutine, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, NamedTuple

from yt_dlp.extractor.common import InfoExtractor

from mediadl import errors
from mediadl.engine.cookies import configured_cookies
from mediadl.engine.sandbox_child import Request, out_of_memory, serve_one
from mediadl.logsetup import current_request_id
from mediadl.models import MediaInfo
from mediadl.settings import Settings

__all__ = ["SPARES", "ExtractorPool", "preload"]

log = logging.getLogger("mediadl.sandbox")

WARM_MODULE = "mediadl.engine.sandbox_warm"
CHILD_MODULE = "mediadl.engine.sandbox_child"
SPARES = 1
"""Processes waiting for a link: one covers requests one after another (its replacement is ready
before the next link); a burst beyond them forks on demand."""
MAX_PAUSE = 30.0
"""The longest pause before replacing a spare, when spares keep dying while they wait."""


class _Child(NamedTuple):
    proc: BaseProcess
    conn: Connection
    """The server's end of the child's pipe: the request goes out, the answer comes back."""


class ExtractorPool:
    """``await pool.resolve(url)``: ``resolve`` in a fresh child, at most ``workers`` at once.

    The child's own errors come back as they are; past ``extract_timeout`` the child's process
    group is killed (``fetch.timeout``); out of memory it fails with ``content.too_large``.
    ``spares`` children are kept forked and set up, waiting for a link (see above).
    """

    def __init__(
        self,
        settings: Settings,
        extractors: Sequence[type[InfoExtractor]] = (),
        *,
        workers: int,
        spares: int = SPARES,
    ) -> None:
        self.settings = _absolute(settings)
        self.extractors = tuple(extractors)
        self.cookies = configured_cookies(settings)
        """Read here, at start (``config.cookies`` if it can't be); each child gets them as
        read, so a file changed or gone later doesn't change what extractions send."""
        self._slots = asyncio.Semaphore(workers)
        self._spares = spares
        self._waiting: deque[_Child] = deque()
        self._forking = 0
        self._lost = 0
        """Spares that died while they waited, since a child last answered."""
        self._closed = False
        self._started = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._mp = multiprocessing.get_context("forkserver")
        self._mp.set_forkserver_preload(preload(self.extractors))

    @property
    def waiting(self) -> list[int]:
        """The process ids of the spares waiting for a link."""
        return [child.proc.pid for child in self._waiting if child.proc.pid is not None]

    async def start(self) -> None:
        """Start the warm forkserver (seconds, once per process) without blocking the loop, and
        the spares."""
        if not self._started:
            from multiprocessing import forkserver

            os.environ["PYTHONSAFEPATH"] = "1"  # before the first ``python -c`` (see above)
            await asyncio.to_thread(forkserver.ensure_running)
            self._started = True
        self._refill()

    async def resolve(self, url: str, *, playlist: bool = True) -> MediaInfo:
        async with self._slots:
            await self.start()
            request = Request(url, playlist, current_request_id(), _log_level())
            return await self._run(await self._hand(request), url)

    async def close(self) -> None:
        """End the spares, and wait for every child to be gone (each within seconds)."""
        self._closed = True
        while self._waiting:
            self._background(self._dismiss(self._unwatch(self._waiting.popleft())))
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _hand(self, request: Request) -> _Child:
        """A child holding ``request``: a spare if one waits (one that died meanwhile is
        passed over), else one forked now; either way a replacement is started."""
        while self._waiting:
            child = self._unwatch(self._waiting.popleft())
            if _sent(child, request):
                self._refill()
                return child
            self._background(self._dismiss(child))
        child = await asyncio.to_thread(self._fork)
        self._refill()
        if _sent(child, request):
            return child
        await self._dismiss(child)
        log.error("an extraction process ended before it got its link")
        raise errors.InternalError()

    async def _run(self, child: _Child, url: str) -> MediaInfo:
        proc, conn = child
        try:
            message = await self._receive(conn, proc.pid)
        except BaseException:
            conn.close()
            await _reap(proc, 0)
            raise
        conn.close()
        if _answered(message):  # the answer needn't wait for the child's exit
            self._lost = 0
            self._refill()
            self._background(_reap(proc, 2))
            return _unpack(message, url, None)
        return _unpack(message, url, await _reap(proc, 2))

    def _fork(self) -> _Child:
        """A new child, set up and waiting on its pipe (blocking: run in a thread)."""
        mine, theirs = self._mp.Pipe(duplex=True)
        args = (theirs, self.settings, self.extractors, self.cookies, _log_level())
        proc = self._mp.Process(target=serve_one, args=args, daemon=True, name="mediadl-extract")
        try:
            proc.start()
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()  # the child's end lives in the child only: its end is ours to see
        return _Child(proc, mine)

    def _refill(self) -> None:
        while not self._closed and len(self._waiting) + self._forking < self._spares:
            self._forking += 1
            self._background(self._add_spare())

    async def _add_spare(self) -> None:
        try:
            if self._lost > 1:  # dying again and again: don't fork in a tight loop
                await asyncio.sleep(min(0.25 * 2 ** (self._lost - 2), MAX_PAUSE))
            child = await asyncio.to_thread(self._fork)
        except Exception:  # no spare: the next resolve forks its own, and tries again
            log.exception("starting a spare extraction process failed")
            return
        finally:
            self._forking -= 1
        if self._closed:
            await self._dismiss(child)
            return
        self._waiting.append(child)
        asyncio.get_running_loop().add_reader(child.conn.fileno(), self._died, child)

    def _died(self, child: _Child) -> None:
        """A spare's pipe became readable while it waited: it ended (it never speaks first)."""
        if child not in self._waiting:
            return
        self._waiting.remove(child)
        self._lost += 1
        log.info("spare extraction process %s ended while it waited", child.proc.pid)
        self._background(self._dismiss(self._unwatch(child)))
        self._refill()

    def _unwatch(self, child: _Child) -> _Child:
        with contextlib.suppress(ValueError, OSError):  # a closed pipe has no reader left
            asyncio.get_running_loop().remove_reader(child.conn.fileno())
        return child

    async def _dismiss(self, child: _Child) -> None:
        """End a child that holds no request: its pipe closes, it leaves; else it's killed."""
        child.conn.close()
        await _reap(child.proc, 2)

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
    """What the forkserver imports once: the warm-up, the child's own module, then the modules
    of ``extractors``, which each child would otherwise import again when it unpickles them
    (about 20 ms for mediadl's own sites)."""
    modules = dict.fromkeys(ie.__module__ for ie in extractors if ie.__module__ != "__main__")
    return [WARM_MODULE, CHILD_MODULE, *modules]


def _sent(child: _Child, request: Request) -> bool:
    """Whether ``request`` reached ``child``'s pipe (not, when the child is already gone)."""
    try:
        child.conn.send(tuple(request))
    except (OSError, ValueError):
        return False
    return True


def _log_level() -> int:
    return logging.getLogger().getEffectiveLevel()


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
        raise out_of_memory(url)
    log.error("extraction of %s ended without an answer (exit %s)", url, exitcode)
    raise errors.InternalError()


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
