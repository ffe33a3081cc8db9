"""What this installation runs on, gathered once for ``mediadl doctor`` and ``GET /api/v1/info``.

Versions (mediadl, yt-dlp, yt-dlp-ejs, the JavaScript runtime, ffmpeg, PyAV), whether YouTube's
challenge solver is ready, the private internals in use and their state, and the proxy and
cookies in force. :meth:`Diagnosis.as_dict` is the operator's full view (paths included);
:meth:`Diagnosis.public` is what a stranger may see: no paths, no proxy host or credentials, no
cookie file name. Nothing here ever reads a cookie's value.

The solver check is a real solve: the runtime runs the installed ``yt-dlp-ejs`` scripts on a
stand-in player (:data:`_PLAYER`, the shape they look for) and must answer the expected ``n``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from mediadl import errors
from mediadl.engine import internals
from mediadl.engine.ffmpeg import ffmpeg_exe
from mediadl.engine.jsruntime import Runtime, configured_runtime
from mediadl.engine.proxy import check_proxy, proxy_of
from mediadl.settings import Settings

__all__ = ["Component", "Diagnosis", "diagnose"]

PROBE_TIMEOUT = 30.0
JS_RUNTIME = "js-runtime"
"""The component name of the JavaScript runtime (which one: :attr:`Diagnosis.js_runtime`)."""

_PLAYER = """(function(g){
var q = {y: function(){}};
function T(){ this.m = {}; }
T.prototype.turn = function(){
  var n = this.m.n; if (n) this.m.n = n.split("").reverse().join("");
};
T.prototype.set = function(k, v){ this.m[k] = v; };
T.prototype.get = function(k){ return this.m[k]; };
function mk(u, sp, s){ q.y("alr", "yes"); var t = new T(); if (s) t.set(sp, s); return t; }
}).call(this);
"""
_CHALLENGE, _ANSWER = "doctor", "rotcod"
_DENO_FLAGS = ("--ext=js", "--no-prompt", "--no-remote", "--no-npm", "--cached-only", "--no-config")
"""How yt-dlp runs deno (no ``--allow-*``: no network, files, environment or processes)."""

_EJS_VERSION = internals.declare(
    "yt_dlp.extractor.youtube.jsc._builtin.vendor.VERSION",
    "check that the installed yt-dlp-ejs is the version this yt-dlp accepts",
    "report the scripts as present without comparing versions",
)


@dataclass
class Component:
    """One piece mediadl runs on: its version, where it is, whether it works (``detail``: why
    not, or a note)."""

    name: str
    version: str | None = None
    path: str | None = None
    ok: bool = True
    detail: str | None = None


@dataclass
class Diagnosis:
    """Every fact :func:`diagnose` gathered, and what is broken."""

    components: list[Component]
    js_runtime: str | None
    """The runtime's name, or None when ``js_runtime`` is ``none``."""
    solver_ready: bool
    solver_detail: str
    internals: list[dict[str, str | None]]
    proxy: str | None
    """The proxy URL without user:password."""
    cookies_file: str | None
    cookies_readable: bool | None
    problems: list[str] = field(default_factory=list)
    """What is broken enough that mediadl can't do its work: empty when healthy."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """The facts without paths, proxy host or credentials, or the cookie file's name."""
        proxy_scheme = urlsplit(self.proxy).scheme or None if self.proxy else None
        return {
            "versions": {c.name: c.version for c in self.components},
            "js_runtime": self.js_runtime,
            "challenge_solver": {"ready": self.solver_ready},
            "internals": [
                {k: v for k, v in item.items() if k in ("name", "state", "fallback")}
                for item in self.internals
            ],
            "proxy": {"configured": self.proxy is not None, "scheme": proxy_scheme},
            "cookies": {"configured": self.cookies_file is not None},
            "healthy": not self.problems,
        }


def diagnose(settings: Settings) -> Diagnosis:
    """Gather every fact. The first call runs ffmpeg and the JavaScript runtime and tries the
    internals (about two seconds); their answers are kept for the life of the process, the rest
    is read each time."""
    _try_internals(settings)
    runtime = configured_runtime(settings)
    js = _js_component(runtime)
    ejs = _ejs_component()
    ffmpeg = _ffmpeg_component(settings.ffmpeg)
    components = [
        Component("mediadl", _dist_version("mediadl")),
        Component("yt-dlp", _ytdlp_version()),
        ejs,
        js,
        ffmpeg,
        _pyav_component(),
    ]
    solver_ready, solver_detail = _solver_state(runtime, js, ejs)
    problems = [f"{c.name}: {c.detail}" for c in components if not c.ok]
    if runtime is not None and not solver_ready:
        problems.append(f"YouTube's challenge solver: {solver_detail}")
    proxy = proxy_of(settings)
    if proxy is not None:
        try:
            check_proxy(settings)
        except errors.ProxyError as exc:
            problems.append(f"proxy: {exc.message}")
    cookies = settings.cookies_file
    return Diagnosis(
        components=components,
        js_runtime=runtime.name if runtime else None,
        solver_ready=solver_ready,
        solver_detail=solver_detail,
        internals=[
            {"name": i.name, "state": i.state, "reason": i.reason, "fallback": i.fallback}
            for i in internals.report()
        ],
        proxy=proxy.shown if proxy else None,
        cookies_file=str(cookies) if cookies else None,
        cookies_readable=(cookies.is_file() and os.access(cookies, os.R_OK)) if cookies else None,
        problems=problems,
    )


def _try_internals(settings: Settings) -> None:
    """Use the private internals, offline, as reading a link would, so the report says whether
    each works (active) or fell back rather than that nothing has used it yet (unused). Once per
    process: what it finds holds for the process's life."""
    internals.disable(settings.disable_internals)
    if all(i.state != "unused" for i in internals.report() if i.name in _TRIED_HERE):
        return
    from mediadl.engine.extract import info_to_media, select_formats
    from mediadl.engine.ytdl import warm_up

    warm_up(settings)  # a guarded YoutubeDL, yt-dlp's extractors registered, a URL looked up
    video = {"url": "https://example.invalid/v.mp4", "format_id": "v", "ext": "mp4"}
    select_formats(info_to_media({"id": "probe", "formats": [video]}), "best", settings)


_TRIED_HERE = frozenset(
    {
        "yt_dlp.networking._urllib",
        "yt_dlp.YoutubeDL._request_director",
        "yt_dlp.YoutubeDL._ies",
        "yt_dlp.InfoExtractor._ENABLED",
        "re._parser",
        "yt_dlp.YoutubeDL._select_formats",
    }
)
"""What :func:`_try_internals` uses; the rest only a particular page does (a KVS player, say)."""


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _ytdlp_version() -> str:
    from yt_dlp.version import __version__

    return str(__version__)


@functools.cache
def _ejs_component() -> Component:
    try:
        from yt_dlp_ejs.yt import solver

        solver.core()
        solver.lib()
    except (ImportError, OSError) as exc:
        return Component("yt-dlp-ejs", ok=False, detail=f"solver scripts missing ({exc})")
    version = _dist_version("yt-dlp-ejs")
    wanted = _wanted_ejs_version()
    if wanted and version and version.split(".")[:2] != wanted.split(".")[:2]:
        detail = f"this yt-dlp wants yt-dlp-ejs {wanted}"
        return Component("yt-dlp-ejs", version, ok=False, detail=detail)
    return Component("yt-dlp-ejs", version)


def _wanted_ejs_version() -> str | None:
    if not _EJS_VERSION.usable():
        return None
    try:
        from yt_dlp.extractor.youtube.jsc._builtin.vendor import VERSION
    except ImportError as exc:
        _EJS_VERSION.fell_back(exc)
        return None
    _EJS_VERSION.worked()
    return str(VERSION)


@functools.cache
def _js_component(runtime: Runtime | None) -> Component:
    if runtime is None:
        return Component(JS_RUNTIME, detail="turned off (js_runtime=none)")
    import yt_dlp  # noqa: F401 - registers the runtimes yt-dlp knows
    from yt_dlp.globals import supported_js_runtimes

    info = supported_js_runtimes.value[runtime.name](path=runtime.path).info
    if info is None:
        detail = f"{runtime.name} does not run"
        return Component(JS_RUNTIME, path=runtime.path, ok=False, detail=detail)
    if not info.supported:
        detail = f"{runtime.name} {info.version} is too old for yt-dlp"
        return Component(JS_RUNTIME, info.version, info.path, ok=False, detail=detail)
    return Component(JS_RUNTIME, info.version, info.path, detail=runtime.name)


@functools.cache
def _ffmpeg_component(configured: str | None) -> Component:
    try:
        exe = ffmpeg_exe(configured)
        out = subprocess.run(
            [exe, "-hide_banner", "-version"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        return Component("ffmpeg", ok=False, detail=f"does not run ({exc})")
    words = out.split()
    version = words[2] if len(words) > 2 and words[0] == "ffmpeg" else None
    return Component("ffmpeg", version, exe)


def _pyav_component() -> Component:
    try:
        import av
    except ImportError as exc:
        return Component("pyav", ok=False, detail=str(exc))
    return Component("pyav", str(av.__version__))


def _solver_state(runtime: Runtime | None, js: Component, ejs: Component) -> tuple[bool, str]:
    if runtime is None:
        return False, "off: no JavaScript runtime (YouTube offers fewer formats)"
    if not js.ok:
        return False, str(js.detail)
    if not ejs.ok:
        return False, f"yt-dlp-ejs: {ejs.detail}"
    return _solves(Runtime(runtime.name, js.path or runtime.path))


@functools.cache
def _solves(runtime: Runtime) -> tuple[bool, str]:
    """Run the solver scripts on :data:`_PLAYER` the way yt-dlp does; cached per process."""
    from yt_dlp_ejs.yt import solver

    command = {
        "deno": [runtime.path, "run", *_DENO_FLAGS, "-"],
        "node": [runtime.path, "--permission", "-"],
    }.get(runtime.name)
    if command is None:
        return True, f"{runtime.name} runs (solving not probed for this runtime)"
    data = {
        "type": "player",
        "player": _PLAYER,
        "requests": [{"type": "n", "challenges": [_CHALLENGE]}],
    }
    script = (
        f"{solver.lib()}\nObject.assign(globalThis, lib);\n{solver.core()}\n"
        f"console.log(JSON.stringify(jsc({json.dumps(data)})));\n"
    )
    try:
        done = subprocess.run(
            command,
            input=script,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
        answer = json.loads(done.stdout)["responses"][0]["data"][_CHALLENGE]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError, TypeError):
        return False, f"{runtime.name} could not run the solver scripts"
    if answer != _ANSWER:
        return False, f"{runtime.name} ran the solver scripts but answered wrongly"
    return True, f"{runtime.name} solved a test challenge"
