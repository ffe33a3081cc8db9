"""Cookies: read once from a cookies.txt file or a browser, handed to yt-dlp and to the fetcher.

Loading is yt-dlp's own (``yt_dlp.cookies.load_cookies``: the Netscape format, every browser and
keyring it knows; ``BROWSER[+KEYRING][:PROFILE][::CONTAINER]`` parsed by ``yt_dlp.parse_options``,
as ``yt-dlp --cookies-from-browser`` does). Which cookie goes to which request is the standard
library's (``http.cookiejar``: domain, path prefix on ``/`` boundaries, ``Secure``, expiry); no
matching is written here.

A process reads its cookies once (:func:`configured_cookies`), before any request: a bad file is a
``config.cookies`` error naming the file, not a failed download later. The file is never written
back (yt-dlp's ``cookiefile`` would save the jar into it on exit), and no cookie value reaches a
log line or an error: messages name the file, never its content.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import optparse
import os
import threading
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

from mediadl import errors
from mediadl.models import CookieRecord
from mediadl.settings import Settings

__all__ = [
    "configured_cookies",
    "cookie_header",
    "jar_of",
    "load_cookies",
    "parse_browser",
    "records_of",
    "remember_cookies",
]

_SKIPPED = "skipping cookie file entry"

_lock = threading.Lock()
_loaded: dict[tuple[str | None, str | None], tuple[CookieRecord, ...]] = {}
"""What this process read, by (file, browser): configuration, read once like the settings."""


def configured_cookies(settings: Settings) -> tuple[CookieRecord, ...]:
    """The cookies ``settings`` name (``cookies_file``, ``cookies_from_browser``), read once."""
    key = _key(settings)
    if key == (None, None):
        return ()
    with _lock:
        if key not in _loaded:
            _loaded[key] = load_cookies(settings.cookies_file, settings.cookies_from_browser)
        return _loaded[key]


def remember_cookies(settings: Settings, cookies: tuple[CookieRecord, ...]) -> None:
    """Use ``cookies`` as what ``settings`` name (a child process gets its parent's reading)."""
    key = _key(settings)
    if key != (None, None):
        with _lock:
            _loaded[key] = cookies


def _key(settings: Settings) -> tuple[str | None, str | None]:
    path = settings.cookies_file
    return (str(path.expanduser()) if path else None, settings.cookies_from_browser)


def load_cookies(file: Path | None, browser: str | None = None) -> tuple[CookieRecord, ...]:
    """Cookies from a Netscape cookies.txt ``file`` and/or a ``browser`` specification.

    Raises ``errors.ConfigCookies`` naming the file (or browser) when it can't be read.
    """
    from yt_dlp.cookies import CookieLoadError
    from yt_dlp.cookies import load_cookies as ytdlp_load

    spec = parse_browser(browser) if browser else None
    path = _readable(file.expanduser()) if file is not None else None
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):  # yt-dlp prints skipped lines, values and all
            jar = ytdlp_load(str(path) if path else None, spec, None)
    except CookieLoadError as exc:
        raise _load_error(exc.__context__, path, browser) from None
    skipped = captured.getvalue().count(_SKIPPED)
    if skipped and path is not None:
        raise errors.ConfigCookies(
            f"The cookies file {path} has {skipped} line(s) that aren't Netscape cookie entries "
            "(7 fields separated by tabs). Export it again with a cookies.txt exporter.",
            file=str(path),
        )
    return records_of(jar)


def parse_browser(spec: str) -> tuple[str, str | None, str | None, str | None]:
    """``BROWSER[+KEYRING][:PROFILE][::CONTAINER]`` as yt-dlp's own option parser reads it."""
    import yt_dlp

    if not spec.strip():
        raise errors.ConfigCookies("--cookies-from-browser needs a browser's name.", browser=spec)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            parsed = yt_dlp.parse_options(
                ["--ignore-config", "--cookies-from-browser", spec, "https://example.invalid/"]
            )
    except (SystemExit, optparse.OptParseError) as exc:  # optparse: a message, then an exit
        text = f"{captured.getvalue()}\n{exc}"
        reason = text.rpartition("error: ")[2].strip() or "not understood"
        raise errors.ConfigCookies(
            f"--cookies-from-browser {spec}: {reason}", browser=spec
        ) from None
    name, profile, keyring, container = parsed.ydl_opts["cookiesfrombrowser"]
    return name, profile, keyring, container


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise errors.ConfigCookies(
            f"The cookies file {path} doesn't exist (or isn't a file).", file=str(path)
        )
    if not os.access(path, os.R_OK):
        raise errors.ConfigCookies(
            f"The cookies file {path} can't be read: check its permissions.", file=str(path)
        )
    return path


def _load_error(
    cause: BaseException | None, path: Path | None, browser: str | None
) -> errors.ConfigCookies:
    """Why loading failed, in words, without a line of the file (it could hold a value)."""
    if isinstance(cause, http.cookiejar.LoadError) and path is not None:
        text = str(cause)
        why = "it is JSON; " if "JSON" in text else ""
        return errors.ConfigCookies(
            f"The cookies file {path} isn't in the Netscape cookies.txt format ({why}the first "
            "line must be '# Netscape HTTP Cookie File'). Export it again with a cookies.txt "
            "exporter.",
            file=str(path),
        )
    if isinstance(cause, UnicodeDecodeError) and path is not None:
        return errors.ConfigCookies(
            f"The cookies file {path} isn't text (UTF-8): is it a cookies.txt file?",
            file=str(path),
        )
    if browser is not None:  # the file (checked readable) parsed: the browser failed
        reason = f" ({type(cause).__name__}: {cause})" if isinstance(cause, OSError) else ""
        return errors.ConfigCookies(
            f"The cookies of the browser {browser} couldn't be read{reason}. Is it installed, "
            "with that profile, for this user?",
            browser=browser,
        )
    return errors.ConfigCookies(
        f"The cookies file {path} couldn't be read ({type(cause).__name__}).",
        file=str(path) if path else None,
    )


def records_of(jar: Iterable[http.cookiejar.Cookie]) -> tuple[CookieRecord, ...]:
    """Every cookie of ``jar`` as a record."""
    return tuple(
        CookieRecord(
            name=c.name,
            value=c.value,
            domain=c.domain,
            path=c.path,
            secure=c.secure,
            expires=c.expires,
            domain_specified=c.domain_specified,
            domain_initial_dot=c.domain_initial_dot,
            path_specified=c.path_specified,
            port=c.port,
            version=c.version or 0,
        )
        for c in jar
    )


def jar_of(
    records: Iterable[CookieRecord], jar: http.cookiejar.CookieJar | None = None
) -> http.cookiejar.CookieJar:
    """A standard ``CookieJar`` (``jar``, or a new one) holding ``records``, under
    :func:`policy`."""
    jar = jar if jar is not None else http.cookiejar.CookieJar()
    jar.set_policy(policy())
    for r in records:
        jar.set_cookie(
            http.cookiejar.Cookie(
                version=r.version,
                name=r.name,
                value=r.value,
                port=r.port,
                port_specified=r.port is not None,
                domain=r.domain,
                domain_specified=r.domain_specified,
                domain_initial_dot=r.domain_initial_dot,
                path=r.path,
                path_specified=r.path_specified,
                secure=r.secure,
                expires=r.expires,
                discard=r.expires is None,
                comment=None,
                comment_url=None,
                rest={},
            )
        )
    return jar


def policy() -> http.cookiejar.DefaultCookiePolicy:
    """The standard library's rules, with host-only cookies kept to their host (RFC 6265).

    A cookie set without ``Domain`` (a cookies.txt line with ``FALSE`` in its second field)
    belongs to its host alone; the library's Netscape-era default would also send it to every
    subdomain.
    """
    return http.cookiejar.DefaultCookiePolicy(
        strict_ns_domain=http.cookiejar.DefaultCookiePolicy.DomainStrictNonDomain
    )


def cookie_header(jar: http.cookiejar.CookieJar, url: str) -> str | None:
    """The ``Cookie`` header ``jar`` gives a request to ``url`` (``None``: no cookie belongs)."""
    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    header = request.get_header("Cookie")
    return header if isinstance(header, str) else None


def without_cookie(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` minus any ``Cookie``: cookies come from a jar, per URL."""
    return {k: v for k, v in headers.items() if k.lower() != "cookie"}
