"""The ``mediadl`` command line: one module per command, state passed explicitly."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import typer

from mediadl.cli import doctor, get, info, jobs, serve, sites, worker

__all__ = ["app", "main"]

app = typer.Typer(
    name="mediadl",
    help="Fast and free all-in-one video downloader.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from mediadl.entry import version_text

        print(version_text())
        raise typer.Exit()


@app.callback()
def _root(
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


app.command("get", help=get.__doc__)(get.command)
app.command("info", help=info.__doc__)(info.command)
app.command("serve", help=serve.__doc__)(serve.command)
app.command("worker", help=worker.__doc__)(worker.command)
app.add_typer(jobs.app, name="jobs")
app.command("sites", help=sites.__doc__)(sites.command)
app.command("doctor", help=doctor.__doc__)(doctor.command)


def main() -> None:
    """Run a command, then leave at once.

    Once a command is done (its files published, its work folders removed, its output flushed
    below), tearing the interpreter down only frees memory the OS takes back anyway: about a
    tenth of a second after a download, every time. So the process exits without it.
    """
    try:
        app()
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
    os._exit(code or 0)
