"""What every command shares: settings from flags, the error line, exit codes."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import typer
from rich.console import Console

from mediadl import errors
from mediadl.engine.cookies import configured_cookies
from mediadl.settings import Settings

__all__ = [
    "COOKIES_FROM_BROWSER_HELP",
    "COOKIES_HELP",
    "EXIT_CANCELLED",
    "EXIT_FAILED",
    "EXIT_SETTINGS",
    "cli_settings",
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

DENY_PRIVATE_HELP = (
    "Refuse links that lead to this machine or the local network (a server's default; "
    "a person's own CLI allows them)."
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


def cli_settings(*, deny_private: bool = False, **overrides: Any) -> Settings:
    """Settings from the environment, with the CLI's defaults and the given flags on top.

    The cookies they name are read here, before any request: a bad cookies file ends the
    command at once (``config.cookies``, exit status 2) rather than each download later.
    """
    values = {k: v for k, v in overrides.items() if v is not None}
    values.setdefault("allow_private", not deny_private)
    try:
        settings = Settings(**values)
    except ValueError as exc:
        stderr.print(f"mediadl: invalid setting: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_SETTINGS) from exc
    try:
        configured_cookies(settings)
    except errors.ConfigError as err:
        print_error(err)
        raise typer.Exit(EXIT_SETTINGS) from None
    return settings


def print_error(err: errors.MediadlError, *, prefix: str = "") -> None:
    stderr.print(f"[bold red]error[/] [dim]{err.code}[/]  {prefix}", end="", highlight=False)
    stderr.print(err.message, markup=False, highlight=False)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def unexpected(exc: BaseException) -> errors.MediadlError:
    """A bug: the traceback goes to the log, the person gets a short line."""
    log.error("unexpected error", exc_info=exc)
    return errors.InternalError(f"Unexpected error ({type(exc).__name__}). Please report it.")
