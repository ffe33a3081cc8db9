"""The private internals of yt-dlp and CPython that mediadl leans on, each with a public fallback.

yt-dlp moves weekly and an operator may take a newer one than mediadl was tested with, so no
private name is used bare: each is declared here as an :class:`Internal` with the public
behaviour mediadl falls back to when the name is missing or changed. The first fall-back of each
is logged once; ``mediadl doctor`` and ``GET /api/v1/info`` show every one's state. The setting
``disable_internals`` (or :func:`disabled` in tests) forces a fall-back, to prove it works.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Internal", "State", "declare", "disable", "report"]

log = logging.getLogger("mediadl.internals")

State = Literal["unused", "active", "fallback", "disabled"]


@dataclass
class Internal:
    """One private name: what it buys, what replaces it, and how it fares in this process."""

    name: str
    """What is used, e.g. ``yt_dlp.YoutubeDL._select_formats``."""
    purpose: str
    fallback: str
    """The public behaviour used instead."""
    state: State = "unused"
    reason: str | None = None

    def usable(self) -> bool:
        """Whether to try the internal now (not disabled, not already found broken)."""
        return self.state not in ("disabled", "fallback")

    def worked(self) -> None:
        if self.state == "unused":
            self.state = "active"

    def fell_back(self, reason: BaseException | str) -> None:
        """The internal is missing or changed: use the fallback from now on; log it once."""
        with _lock:
            if self.state in ("fallback", "disabled"):
                return
            self.state = "fallback"
            self.reason = (
                reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
            )
        log.warning(
            "%s is unavailable (%s); using %s instead", self.name, self.reason, self.fallback
        )


_WHY_DISABLED = "disabled by the disable_internals setting"
_lock = threading.Lock()
_REGISTRY: dict[str, Internal] = {}
_DISABLED: set[str] = set()


def declare(name: str, purpose: str, fallback: str) -> Internal:
    """The :class:`Internal` called ``name``, declared once per process."""
    with _lock:
        internal = _REGISTRY.get(name)
        if internal is None:
            internal = _REGISTRY[name] = Internal(name, purpose, fallback)
            if name in _DISABLED or "*" in _DISABLED:
                internal.state, internal.reason = "disabled", _WHY_DISABLED
        return internal


def disable(names: Iterable[str]) -> None:
    """Force the fallback of each named internal (``"*"``: all of them), in this process."""
    with _lock:
        _DISABLED.update(names)
        for internal in _REGISTRY.values():
            if "*" in _DISABLED or internal.name in _DISABLED:
                internal.state, internal.reason = "disabled", _WHY_DISABLED


def report() -> list[Internal]:
    """Every declared internal, in declaration order."""
    with _lock:
        return list(_REGISTRY.values())
