"""Start the web page and the JSON APIs (native and cobalt-compatible) on uvicorn."""

from __future__ import annotations

import logging
from typing import Any

import typer

from mediadl.cli.common import stderr

__all__ = ["command"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    allow_loopback: bool | None = typer.Option(
        None,
        "--allow-loopback/--deny-loopback",
        help="Let links lead to this machine (local development, the fixture site). "
        "Default: MEDIADL_ALLOW_LOOPBACK, else denied.",
    ),
    log_level: str = typer.Option("info", help="debug, info, warning or error."),
) -> None:
    import uvicorn

    from mediadl.service import create_app
    from mediadl.settings import Settings

    values: dict[str, Any] = {}
    if allow_loopback is not None:
        values["allow_loopback"] = allow_loopback
    try:
        settings = Settings(**values)
        app = create_app(settings)
    except ValueError as exc:
        stderr.print(f"mediadl serve: invalid setting: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
