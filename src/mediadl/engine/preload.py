"""Loading the fetcher while a page is on its way, not after it came.

``mediadl get`` reads a page first and imports the fetcher (aiohttp, its SSL contexts, the
download modules: about a quarter second of CPU) only when the page has told it what to fetch, so
a command that fails on the page doesn't pay for it. Between the two the process mostly waits: on
the site's answers (one page here, several API calls for the large sites), on ``ffmpeg -bsfs``
that yt-dlp runs to learn whether it could merge. :class:`FetcherLoad` imports the fetcher on a
thread of its own from the moment a ``YoutubeDL`` of this process sends its first request
(:data:`REQUESTING`, set by :class:`~mediadl.engine.lookup.IndexedYoutubeDL`), so it uses those
waits; before a thread imports the fetcher itself it calls :meth:`FetcherLoad.settle`, which waits
for a load under way or keeps one from starting, so the two never import the same modules at once.
"""

from __future__ import annotations

import importlib
import logging
import threading

__all__ = ["AHEAD", "FETCHER", "REQUESTING", "FetcherLoad"]

log = logging.getLogger("mediadl.engine")

REQUESTING = threading.Event()
"""Set when a ``YoutubeDL`` of this process first sends a request: its thread then waits on the
network, and another thread can use the time."""
AHEAD = threading.Event()
"""Set by a process that starts threads of its own to work ahead of what it waits for (``mediadl
get``): the fetcher's import here, yt-dlp's TLS context and ffmpeg's version
(:func:`~mediadl.engine.egress_ytdl.warm_tls_aside`,
:func:`~mediadl.engine.ffmpeg_versions.ask_aside`). Never a process that forks workers: a child
forked while such a thread holds a lock would inherit the lock held, for good."""
FETCHER = "mediadl.engine.download"
"""The module whose import brings in the fetcher and everything a download runs."""


class FetcherLoad:
    """One background import of :data:`FETCHER`, started by the process's first request."""

    def __init__(self, module: str = FETCHER, signal: threading.Event = REQUESTING) -> None:
        self.module = module
        self._signal = signal
        self._lock = threading.Lock()
        self._state = "waiting"
        """``waiting`` for the first request, ``loading``, then ``done``; ``settled`` when
        :meth:`settle` came first (nothing is loaded here then)."""
        self._done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mediadl-load", daemon=True)
        self.thread.start()

    @property
    def state(self) -> str:
        return self._state

    def settle(self) -> None:
        """Return once no import of this load is under way, and none will start."""
        with self._lock:
            loading = self._state == "loading"
            if self._state == "waiting":
                self._state = "settled"
        if loading:
            self._done.wait()

    def _run(self) -> None:
        self._signal.wait()
        with self._lock:
            if self._state != "waiting":
                return
            self._state = "loading"
        try:
            importlib.import_module(self.module)
        except BaseException as exc:  # noqa: BLE001 - the caller's own import meets it and says so
            log.debug("loading %s ahead failed: %s", self.module, exc)
        finally:
            with self._lock:
                self._state = "done"
            self._done.set()
