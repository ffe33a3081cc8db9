"""What every command shares: settings from flags, the error line, exit codes."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from mediadl import errors, sites
from mediadl.cli.render import plain
from mediadl.engine import Engine
from mediadl.engine.cookies import configured_cookies
from mediadl.settings import Settings

__all__ = [
    "COOKIES_FROM_BROWSER_HELP",
    "COOKIES_HELP",
    "EXIT_CANCELLED",
    "EXIT_FAILED",
    "EXIT_SETTINGS",
    "cli_settings",
    "environment_proxy",
    "error_text",
    "print_error",
    "print_json",
    "stderr",
    "stdout",
]

EXIT_FAILED = 1
EXIT_CANCELLED = 130

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

log = logging.getLogger("mediadl")

PRIVATE_HELP = (
    "Let links lead to this machine and the local network, or refuse them. Default: "
    "MEDIADL_ALLOW_PRIVATE when set, else allowed (a person's own CLI; a server denies them)."
)


COOKIES_HELP = (
    "Netscape cookies.txt file whose cookies go to the sites they belong to (a login, a "
    "challenge passed in a browser). Read only, never written. Default: MEDIADL_COOKIES_FILE."
)
COOKIES_FROM_BROWSER_HELP = (
    "Read cookies from your browser, as yt-dlp does: BROWSER[+KEYRING][:PROFILE][::CONTAINER] "
    "(brave, chrome, chromium, edge, firefox, opera, safari, vivaldi, whale). Command line "
    "only: a server has no browser of its visitors' (it takes a cookies file)."
)
EXIT_SETTINGS = 2


PROXY_HELP = (
    "Proxy for every connection to sites: http://, socks5://, socks5h://, socks4:// or "
    "socks4a:// URL, with "
    "user:password@ if it needs them. Default: MEDIADL_PROXY, else HTTPS_PROXY, HTTP_PROXY or "
    "ALL_PROXY (and NO_PROXY); --proxy '' turns proxies off."
)
_PROXY_VARIABLES = (
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


# The options every command that reads links takes (one declaration, shared by get and info).
PRIVATE_OPTION: Any = typer.Option(None, "--allow-private/--deny-private", help=PRIVATE_HELP)
PROXY_OPTION: Any = typer.Option(None, "--proxy", metavar="URL", help=PROXY_HELP)
COOKIES_OPTION: Any = typer.Option(None, "--cookies", metavar="FILE", help=COOKIES_HELP)
VERBOSE_OPTION: Any = typer.Option(
    0,
    "-v",
    "--verbose",
    count=True,
    help="Say more: what mediadl does (-v), everything with its details (-vv).",
)
QUIET_OPTION: Any = typer.Option(
    False, "-Q", "--quiet", help="No bars and no 'saved' lines: errors only (and --json)."
)
COOKIES_FROM_BROWSER_OPTION: Any = typer.Option(
    None,
    "--cookies-from-browser",
    metavar="BROWSER[+KEYRING][:PROFILE][::CONTAINER]",
    help=COOKIES_FROM_BROWSER_HELP,
)


def link_engine(
    *,
    allow_private: bool | None,
    proxy: str | None,
    cookies: Path | None,
    cookies_from_browser: str | None,
    **overrides: Any,
) -> Engine:
    """The engine a command reads links with: settings from its flags, mediadl's own sites.

    ``overrides`` are more settings from flags (``None``: not given, the environment's stands).
    """
    settings = cli_settings(
        allow_private=allow_private,
        proxy=proxy,
        cookies_file=cookies,
        cookies_from_browser=cookies_from_browser,
        **overrides,
    )
    return Engine(settings, sites.extractors())


def cli_settings(
    *,
    allow_private: bool | None = None,
    proxy: str | None = None,
    check: bool = True,
    **overrides: Any,
) -> Settings:
    """Settings from the environment, with the CLI's defaults and the given flags on top.

    Local links: the flag (``allow_private``) wins, then ``MEDIADL_ALLOW_PRIVATE``; only when
    neither says does the CLI's own default (allowed: a person's own machine) apply.

    With ``check``, the cookies they name are read and the proxy is checked here, before any
    request: a bad cookies file (``config.cookies``, exit status 2) or a local proxy the egress
    guard refuses ends the command at once, not each download later (``doctor`` reports them
    instead).
    """
    values = {k: v for k, v in overrides.items() if v is not None}
    values.update(_private_values(allow_private, os.environ))
    values.update(_proxy_values(proxy, os.environ))
    try:
        settings = Settings(**values)
    except ValueError as exc:
        stderr.print(f"mediadl: invalid setting: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_SETTINGS) from exc
    if not check:
        return settings
    try:
        configured_cookies(settings)
    except errors.ConfigError as err:
        print_error(err)
        raise typer.Exit(EXIT_SETTINGS) from None
    from mediadl.engine.proxy import check_proxy

    try:
        check_proxy(settings)
    except errors.ProxyError as exc:
        print_error(exc)
        raise typer.Exit(EXIT_FAILED) from exc
    return settings


def _private_values(flag: bool | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """``--allow-private``/``--deny-private`` wins; then ``MEDIADL_ALLOW_PRIVATE`` (read by
    the settings themselves, in any case as they read it); else allowed."""
    if flag is not None:
        return {"allow_private": flag}
    if any(name.upper() == "MEDIADL_ALLOW_PRIVATE" for name in environ):
        return {}
    return {"allow_private": True}


def _proxy_values(flag: str | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """``--proxy`` wins (``""``: none); then ``MEDIADL_PROXY``; then the usual variables."""
    if flag is not None:
        return {"proxy": flag.strip() or None}
    if "MEDIADL_PROXY" in environ:
        return {}
    url, no_proxy = environment_proxy(environ)
    values: dict[str, Any] = {"proxy": url} if url else {}
    if url and no_proxy and "MEDIADL_NO_PROXY" not in environ:
        values["no_proxy"] = no_proxy
    return values


def environment_proxy(environ: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The proxy of ``HTTPS_PROXY``, ``HTTP_PROXY`` or ``ALL_PROXY`` (lower case first, as curl
    reads them; a value without a scheme is an http:// proxy) and the hosts of ``NO_PROXY``.

    mediadl has one proxy for every link (sites move between http and https), so the first of
    those set is it.
    """
    url = next((environ[n].strip() for n in _PROXY_VARIABLES if environ.get(n, "").strip()), None)
    if url and "://" not in url:
        url = "http://" + url
    raw = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    return url, [item.strip() for item in raw.split(",") if item.strip()]


def error_text(err: errors.MediadlError, *, about: str = "") -> Text:
    """``error CODE  ABOUT: MESSAGE`` as one line of text (no markup is read from ``about``
    or the message: a title may hold brackets)."""
    text = Text.assemble(("error", "bold red"), " ", (err.code, "dim"), "  ")
    if about:
        text.append(f"{plain(about)}: ")
    text.append(err.message)
    return text


def print_error(err: errors.MediadlError, *, about: str = "") -> None:
    """The error line on stderr, printed in one piece (two prints could be split by a redraw)."""
    stderr.print(error_text(err, about=about), highlight=False, soft_wrap=True)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def unexpected(exc: BaseException) -> errors.MediadlError:
    """A bug: the person gets a short line; the traceback is logged, shown with ``-v``."""
    log.info("unexpected error", exc_info=exc)
    return errors.InternalError(
        f"Unexpected error ({type(exc).__name__}). Please report it with what `-v` shows."
    )
