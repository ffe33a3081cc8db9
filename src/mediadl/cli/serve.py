"""Start the web page and the JSON APIs."""

from __future__ import annotations

import typer

from mediadl.cli.common import stderr

__all__ = ["command"]


def command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    stderr.print(f"mediadl serve: the web service is not available yet ({host}:{port}).")
    raise typer.Exit(1)
