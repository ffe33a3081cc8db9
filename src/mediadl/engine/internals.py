"""The private internals of yt-dlp, aiohttp and CPython mediadl leans on, each with a fallback.

yt-dlp moves weekly and an operator may take a newer one than mediadl was tested with, so no
private name is used bare: each is declared here as an :class:`Internal` with the public
behaviour mediadl falls back to when the name is missing or changed. The first fall-back of each
is logged once; ``mediadl doctor`` and ``GET /api/v1/info`` show every one's state. The setting
``disable_internals`` (applied by every new ``YoutubeDL``, see :func:`disable`) or, in tests,
:func:`disabled` forces a fall-back, to prove it works.

A use reads::

    SELECT = declare("yt_dlp.YoutubeDL._select_formats", "why it helps", "what replaces it")
    chosen = SELECT.run(lambda: ydl._select_formats(...), lambda: public_selection(...))
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

__all__ = ["Internal", "State", "declare", "disable", "disabled", "isolated", "report"]

log = logging.getLogger("mediadl.internals")

State = Literal["unused", "active", "fallback", "disabled"]
Seen = Literal["unused", "active", "fallback"]
T = TypeVar("T")

ALL = "*"
_WHY_DISABLED = "disabled by the disable_internals setting"


@dataclass
class Internal:
    """One private name: what it buys, what replaces it, and how it fares in this process."""

    name: str
    """What is used, e.g. ``yt_dlp.YoutubeDL._select_formats``."""
    purpose: str
    fallback: str
    """The public behaviour used instead."""
    seen: Seen = "unused"
    """What this process found: not tried yet, working, or missing/changed (see ``problem``)."""
    problem: str | None = None

    @property
    def state(self) -> State:
        return "disabled" if _is_disabled(self.name) else self.seen

    @property
    def reason(self) -> str | None:
        """Why the fallback is in use (``None`` while the internal is)."""
        return _WHY_DISABLED if _is_disabled(self.name) else self.problem

    def usable(self) -> bool:
        """Whether to try the internal now (not disabled, not already found broken)."""
        return not _is_disabled(self.name) and self.seen != "fallback"

    def worked(self) -> None:
        if self.seen == "unused":
            self.seen = "active"

    def fell_back(self, reason: BaseException | str) -> None:
        """The internal is missing or changed: use the fallback from now on; log it once."""
        text = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
        with _lock:
            if self.seen == "fallback":
                return
            self.seen, self.problem = "fallback", text
        log.warning("%s is unavailable (%s); falling back to %s", self.name, text, self.fallback)

    def run(self, private: Callable[[], T], public: Callable[[], T]) -> T:
        """``private()`` while the internal is usable, else ``public()``: the same answer.

        When ``private()`` raises, ``public()`` answers instead, and the internal is set aside
        for good only if ``public()`` succeeds: an error both raise comes from the input (a bad
        selector, a broken page), not from a changed internal, and ``public()``'s is raised.
        """
        if not self.usable():
            return public()
        try:
            result = private()
        except Exception as exc:  # noqa: BLE001 - a changed internal fails in any way
            answer = public()
            self.fell_back(exc)
            return answer
        self.worked()
        return result


_lock = threading.RLock()
_REGISTRY: dict[str, Internal] = {}
_FROM_SETTINGS: frozenset[str] = frozenset()
_FORCED: frozenset[str] = frozenset()


def _is_disabled(name: str) -> bool:
    off = _FROM_SETTINGS | _FORCED
    return name in off or ALL in off


def declare(name: str, purpose: str, fallback: str) -> Internal:
    """The :class:`Internal` called ``name``, declared once per process."""
    with _lock:
        internal = _REGISTRY.get(name)
        if internal is None:
            internal = _REGISTRY[name] = Internal(name, purpose, fallback)
        return internal


def disable(names: Iterable[str]) -> None:
    """Use the fallback of exactly these internals (``"*"``: all of them) in this process.

    The ``disable_internals`` setting, applied by every new ``YoutubeDL`` (a process serves one
    set of settings); the others are used again unless found broken.
    """
    global _FROM_SETTINGS  # noqa: PLW0603 - one process-wide switch, like the registry
    _FROM_SETTINGS = frozenset(names)


@contextmanager
def isolated() -> Iterator[None]:
    """Whatever happens inside (internals found broken, settings applied) is undone on leaving.

    For tests that simulate a missing internal: the process goes back to what it knew before.
    """
    global _FROM_SETTINGS, _FORCED
    with _lock:
        saved = {name: (i.seen, i.problem) for name, i in _REGISTRY.items()}
        settings, forced = _FROM_SETTINGS, _FORCED
    try:
        yield
    finally:
        with _lock:
            for name, internal in _REGISTRY.items():
                internal.seen, internal.problem = saved.get(name, ("unused", None))
            _FROM_SETTINGS, _FORCED = settings, forced


@contextmanager
def disabled(*names: str) -> Iterator[None]:
    """Inside, these internals (``"*"``: all) are disabled whatever the settings say; see
    :func:`isolated` for what is restored on leaving."""
    global _FORCED  # noqa: PLW0603
    with isolated():
        _FORCED = _FORCED | frozenset(names)
        yield


def report() -> list[Internal]:
    """Every declared internal, in declaration order."""
    with _lock:
        return list(_REGISTRY.values())
