"""Simulating a newer yt-dlp or Python where a private name mediadl uses is gone or changed.

The library's own code keeps reaching the name (as if it had renamed or changed it everywhere
itself); only mediadl's code, the caller that leans on a private, meets the change.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

_UNSET = object()


class _AsMediadlSees:
    def __init__(self, name: str, original: Any, replacement: Any) -> None:
        self.name = name
        self.original = original
        self.replacement = replacement
        self.slot = f"_simulated{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if sys._getframe(1).f_globals.get("__name__", "").startswith("mediadl."):
            if self.replacement is _UNSET:
                raise AttributeError(f"{owner.__name__ if owner else '?'} has no {self.name}")
            return _bind(self.replacement, obj, owner)
        if self.original is _UNSET:  # an attribute the instances set on themselves
            return self if obj is None else obj.__dict__[self.slot]
        return _bind(self.original, obj, owner)

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value


def _bind(value: Any, obj: Any, owner: type | None) -> Any:
    getter = getattr(value, "__get__", None)
    return getter(obj, owner) if getter else value


def hide_from_mediadl(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> None:
    """Until the test ends, mediadl finds no ``owner.<name>``; ``owner``'s own code still does.

    Works for methods and class attributes defined on ``owner`` and for attributes its
    instances set on themselves (instances made from now on).
    """
    change_for_mediadl(monkeypatch, owner, name, _UNSET)


def change_for_mediadl(
    monkeypatch: pytest.MonkeyPatch, owner: type, name: str, replacement: Any
) -> None:
    """Until the test ends, mediadl finds ``replacement`` as ``owner.<name>`` (a function is bound
    like a method); ``owner``'s own code still finds the original."""
    original = owner.__dict__.get(name, _UNSET)
    monkeypatch.setattr(owner, name, _AsMediadlSees(name, original, replacement), raising=False)
