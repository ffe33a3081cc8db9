"""The ``mediadl`` command line: one module per command, state passed explicitly."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import typer

from mediadl import regexcache
from mediadl.cli import doctor, get, info, jobs, serve, sites, worker
from mediadl.cli.helptext import SETTINGS_EPILOG, HelpCommand, HelpGroup

__all__ = ["app", "main"]

app = typer.Typer(
    name="mediadl",
    cls=HelpGroup,
    help="Fast and free all-in-one video downloader.",
    epilog=SETTINGS_EPILOG,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _print_version(value: bool) -> None:
    if value:
        from mediadl.entry import version_text

        print(version_text())
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        help="Print the versions of mediadl, yt-dlp and the JavaScript runtime.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """Fast and free all-in-one video downloader."""
    if ctx.resilient_parsing:  # shell completion: no file read, no error printed
        return
    from mediadl.cli import config

    path = config.config_path()
    try:
        ctx.default_map = config.default_map(path, getattr(ctx.command, "commands", {}))
    except config.ConfigFileError as exc:
        print(f"mediadl: config file: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None


_COMMANDS = {
    "get": (get, "Download one or more links."),
    "info": (info, "Show what a link holds and the choices it offers."),
    "serve": (serve, "Start the web page and the JSON APIs."),
    "worker": (worker, "Run jobs from a shared Redis queue beside the servers."),
    "sites": (sites, "The sites mediadl names, and which extractor takes a link."),
    "doctor": (doctor, "Check this installation."),
}
for _name, (_module, _summary) in _COMMANDS.items():
    app.command(
        _name, cls=HelpCommand, help=_module.__doc__, short_help=_summary, epilog=SETTINGS_EPILOG
    )(_module.command)
app.add_typer(
    jobs.app, name="jobs", short_help="Add, list, cancel and retry jobs on a mediadl server."
)


def main() -> None:
    """Run a command, then leave at once.

    Once a command is done (its files published, its work folders removed, its output flushed
    below), tearing the interpreter down only frees memory the OS takes back anyway: about a
    tenth of a second after a download, every time. So the process exits without it.
    """
    try:
        app(prog_name="mediadl")  # also as ``python -m mediadl``: help names the command
    except SystemExit as done:
        code = done.code
    else:
        code = 0
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that went away (``| head``)
            stream.flush()
    regexcache.save()
    os._exit(code or 0)
