"""Start the web page and the JSON APIs (native and cobalt-compatible) on uvicorn.

On a public server, set at least: MEDIADL_SECRET (signs tunnels; the same on every replica),
MEDIADL_BASE_URL (the address people reach it at), MEDIADL_TRUSTED_PROXIES (the reverse proxy
in front, so clients are told apart by X-Forwarded-For), the rate limits (MEDIADL_RATE_LIMIT,
MEDIADL_RATE_LIMIT_MEDIA, MEDIADL_RATE_LIMIT_STORAGE=redis://… for several replicas) and, for
a private API, MEDIADL_API_KEYS with MEDIADL_API_KEY_REQUIRED. For a log collector:
MEDIADL_LOG_FORMAT=json; for Prometheus: MEDIADL_METRICS with MEDIADL_METRICS_KEY. Every setting:
docs/settings.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import typer

from mediadl import errors
from mediadl.cli.common import stderr

if TYPE_CHECKING:
    from mediadl.settings import Settings

__all__ = ["command", "startup_lines"]


def command(
    host: str = typer.Option(
        "127.0.0.1", metavar="ADDRESS", help="Address to listen on (0.0.0.0: every one)."
    ),
    port: int = typer.Option(8000, min=1, max=65535, metavar="PORT", help="Port to listen on."),
    allow_network: list[str] = typer.Option(
        [],
        "--allow-network",
        metavar="CIDR",
        help="A network links may lead to even when it is local (127.0.0.2/32, fd00::/8); "
        "repeat for more. Added to MEDIADL_ALLOW_NETWORKS.",
    ),
    allow_private: bool | None = typer.Option(
        None,
        "--allow-private/--deny-private",
        help="Let links lead to this machine and local networks. Default: "
        "MEDIADL_ALLOW_PRIVATE, else denied (a public server must deny them).",
    ),
    log_level: str = typer.Option("info", metavar="LEVEL", help="debug, info, warning or error."),
) -> None:
    from mediadl.engine.proxy import check_proxy
    from mediadl.logsetup import configure
    from mediadl.service import create_app
    from mediadl.service.logs import install_log_filters
    from mediadl.settings import Settings

    values: dict[str, Any] = {}
    if allow_private is not None:
        values["allow_private"] = allow_private
    try:
        settings = Settings(**values)
        if allow_network:
            networks = [*settings.allow_networks, *allow_network]
            values = {**settings.model_dump(), "allow_networks": networks}
            settings = Settings.model_validate(values)
        check_proxy(settings)  # a local proxy the guard refuses: say so now, not per request
        app = create_app(settings)
    except ValueError as exc:
        stderr.print(f"mediadl serve: invalid setting: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    except (errors.ProxyError, errors.ConfigError) as exc:
        stderr.print(f"mediadl serve: {exc.code}: {exc.message}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    configure(settings.log_format, log_level)
    install_log_filters()
    _run(app, settings, host=host, port=port, log_level=log_level)


def _run(app: Any, settings: Settings, *, host: str, port: int, log_level: str) -> None:
    """uvicorn with the connection limits: heads on time, idle keep-alives closed, connections
    bounded per client and in all, as many descriptors as the system lets this process have, and
    an allocator that keeps the memory of relayed pieces for the next ones
    (:mod:`mediadl.service.allocator`)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from mediadl.engine.egress import parse_networks
    from mediadl.service.allocator import tune_allocator
    from mediadl.service.connections import guarded_protocol, raise_descriptor_limit

    before, after = raise_descriptor_limit()
    log = logging.getLogger("mediadl.serve")
    log.info("open-file limit: %d%s", after, f" (raised from {before})" if after != before else "")
    log.info("allocator thresholds %s", "set" if tune_allocator() else "left as they are")
    for line in startup_lines(settings, host=host, port=port):
        log.info("%s", line)
    protocol = guarded_protocol(
        head_timeout=settings.request_head_timeout,
        per_client=settings.max_connections_per_client,
        trusted=parse_networks(settings.trusted_proxies),
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For counts only from MEDIADL_TRUSTED_PROXIES
        http=protocol,  # request heads on time, connections per client bounded
        timeout_keep_alive=max(1, round(settings.keep_alive_timeout)),
        limit_concurrency=settings.max_connections,
        # JSON lines: uvicorn's lines go through the root handler (its own config is text)
        log_config=None if settings.log_format == "json" else LOGGING_CONFIG,
    )


def startup_lines(settings: Settings, *, host: str, port: int) -> list[str]:
    """What an operator wants to read first: where the page and the API docs are, which local
    networks links may reach, and where the data lives."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):  # noqa: S104 - naming it, not binding to it
        shown = "127.0.0.1" if host == "0.0.0.0" else "[::1]"  # noqa: S104
    base = f"http://{shown}:{port}"
    if settings.allow_private:
        networks = "every address, this machine and local networks included (allow_private)"
    elif settings.allow_networks:
        networks = "public addresses and " + ", ".join(settings.allow_networks)
    else:
        networks = "public addresses only"
    public = f"  (public address: {settings.base_url})" if settings.base_url else ""
    return [
        f"web page: {base}/{public}",
        f"API docs: {base}/docs  (OpenAPI: {base}/openapi.json)",
        f"links may reach: {networks}",
        f"data directory: {settings.data_dir.absolute()}",
    ]
