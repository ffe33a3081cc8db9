"""The JavaScript runtimes yt-dlp can solve challenges with, and finding one's binary.

Kept apart from :mod:`mediadl.settings` (which validates ``js_runtime`` with it) so that
``mediadl --version`` can name the runtime without importing pydantic.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["JS_RUNTIMES", "check_js_runtime", "find_js_runtime", "wheel_deno"]

JS_RUNTIMES = ("deno", "node", "bun", "quickjs")
"""The runtimes yt-dlp can solve challenges with; ``quickjs``'s binary is called ``qjs``."""


def check_js_runtime(value: str) -> str:
    """``NAME`` or ``NAME:PATH``, known to yt-dlp and found, as ``NAME:PATH`` (or ``none``).

    Raises ``ValueError`` saying what is wrong.
    """
    name, _, path = value.strip().partition(":")
    name = name.strip().lower()
    if name == "none":
        return "none"
    if name not in JS_RUNTIMES:
        raise ValueError(
            f"unknown JavaScript runtime {name!r}: use one of {', '.join(JS_RUNTIMES)}, "
            "optionally as NAME:PATH, or none"
        )
    found = find_js_runtime(name, path.strip())
    if found is None:
        where = f"at {path.strip()!r}" if path.strip() else "on PATH"
        raise ValueError(
            f"JavaScript runtime {name} not found {where}: install it, give NAME:PATH to "
            "its binary, or set none (YouTube then offers fewer formats)"
        )
    return f"{name}:{found}"


def find_js_runtime(name: str, path: str) -> str | None:
    """The runtime's binary: ``path`` if given, else deno's wheel, else ``PATH``."""
    if path:
        found = shutil.which(path) if os.sep not in path else path
        ok = found is not None and os.path.isfile(found) and os.access(found, os.X_OK)  # noqa: PTH113
        return str(Path(found).absolute()) if ok and found else None
    if name == "deno":
        wheel = wheel_deno()
        if wheel is not None:
            return wheel
    return shutil.which("qjs" if name == "quickjs" else name)


def wheel_deno() -> str | None:
    """The binary of the ``deno`` wheel, if it is installed (its version is the wheel's)."""
    try:
        from deno import find_deno_bin

        return str(find_deno_bin())
    except (ImportError, FileNotFoundError):
        return None
