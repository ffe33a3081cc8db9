"""What every command shares: settings from flags, the error line, exit codes."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import typer
from rich.console import Console

from mediadl import errors
from mediadl.settings import Settings

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_FAILED",
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


def cli_settings(*, deny_private: bool = False, **overrides: Any) -> Settings:
    """Settings from the environment, with the CLI's defaults and the given flags on top."""
    values = {k: v for k, v in overrides.items() if v is not None}
    values.setdefault("allow_private", not deny_private)
    try:
        return Settings(**values)
    except ValueError as exc:
        stderr.print(f"mediadl: invalid setting: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc


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
