"""The ``mediadl`` command line: one module per command, state passed explicitly."""

from __future__ import annotations

import typer

from mediadl.cli import get, info, serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="mediadl",
    help="Fast and free all-in-one video downloader.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("get", help=get.__doc__)(get.command)
app.command("info", help=info.__doc__)(info.command)
app.command("serve", help=serve.__doc__)(serve.command)


def main() -> None:
    app()
