"""The JavaScript runtime yt-dlp solves YouTube's challenges with, handed over explicitly.

YouTube hides its media URLs behind challenges (the ``n`` and signature transforms) computed by
its player's JavaScript; yt-dlp solves them with the ``yt-dlp-ejs`` scripts run in a real
runtime. Without one it warns that YouTube extraction "has been deprecated, and some formats may
be missing". The runtime is the ``deno`` wheel's binary by default (setting ``js_runtime``,
resolved to ``NAME:PATH`` when the settings are read), given to yt-dlp by path through its
``js_runtimes`` option, so nothing needs to be on ``PATH``. yt-dlp may never download solver
scripts (``remote_components`` stays empty): the ones of the installed ``yt-dlp-ejs`` are used.

How the runtime runs: yt-dlp starts ``deno run --no-prompt --no-remote --no-npm --cached-only
--no-config … -`` with no ``--allow-*`` flag, so the player's code has no network, file,
environment, subprocess or FFI access (Deno grants nothing unless asked, and ``--no-prompt``
turns every request into an error). ``node`` is started with its permission model on
(``--permission``: no file writes outside, no subprocesses, no workers) but node before 25 does
not restrict the network; ``bun`` and ``quickjs`` run unrestricted. Hence deno, the default, is
the one to use on a server. Deno itself keeps an analysis cache in ``DENO_DIR``, pointed here at
mediadl's cache directory, and never checks for its own updates.

Memory: V8 reserves ~36 GiB of address space it never touches (a 32 GiB cppgc cage, a 4 GiB
pointer cage; measured: deno 2.9 aborts at start under ``RLIMIT_AS`` of 32 GiB, runs at 34 GiB),
so the server's extraction child caps data, not address space (see
:mod:`mediadl.engine.sandbox`). Its 512 MiB code range is writable and executable from the
start and does count as data: solving a stand-in player of YouTube's size (3.4 MB) needed
768–850 MiB with the compiler, 256–384 MiB without (``bench/jsruntime_memory.py``). Under a data
limit below :data:`JIT_MEMORY` the runtime runs ``--jitless`` (two to three times slower)
instead of failing; if it fails all the same, yt-dlp logs it and extraction goes on with the
formats that need no solving.
"""

from __future__ import annotations

import functools
import os
import resource
from dataclasses import dataclass
from typing import Any

from mediadl.settings import Settings

__all__ = ["JIT_MEMORY", "Runtime", "configured_runtime", "runtime_params"]

JIT_MEMORY = 1 << 30
"""Data limit below which the runtime runs without V8's compiler (see the module docstring)."""


@dataclass(frozen=True)
class Runtime:
    """The runtime a setting names: yt-dlp's key for it and its binary."""

    name: str
    path: str


def configured_runtime(settings: Settings) -> Runtime | None:
    """The runtime of ``js_runtime`` (checked and resolved to ``NAME:PATH`` when the settings
    were read), or None when it is off. A bare name (settings copied without validation) gets an
    empty path: yt-dlp then looks for the binary itself."""
    name, _, path = settings.js_runtime.partition(":")
    if name == "none":
        return None
    return Runtime(name, path)


def runtime_params(settings: Settings) -> dict[str, Any]:
    """yt-dlp params that hand it the runtime by path and keep solver downloads off."""
    params: dict[str, Any] = {"remote_components": set()}
    runtime = configured_runtime(settings)
    if runtime is None:
        params["js_runtimes"] = {}
        return params
    _runtime_environment(str(settings.data_dir / "cache" / "deno"))
    params["js_runtimes"] = {runtime.name: {"path": runtime.path} if runtime.path else {}}
    if _data_limit() < JIT_MEMORY:
        params["extractor_args"] = {"youtube-ejs": {"jitless": ["true"]}}
    return params


def _data_limit() -> int:
    """This process's data limit, which every runtime it starts inherits (unlimited: huge)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    return 1 << 62 if soft == resource.RLIM_INFINITY else soft


@functools.cache
def _runtime_environment(deno_dir: str) -> None:
    """Deno's cache under mediadl's cache (Deno makes the folder when it first writes there); no
    update check. yt-dlp passes the environment on."""
    os.environ.setdefault("DENO_DIR", deno_dir)
    os.environ.setdefault("DENO_NO_UPDATE_CHECK", "1")
