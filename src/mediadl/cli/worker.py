"""Run jobs from a shared Redis queue (MEDIADL_QUEUE=redis://…) until stopped (Ctrl-C, SIGTERM).

Start as many as the machines allow, beside any number of `mediadl serve` replicas; all of them
need the same MEDIADL_QUEUE and a MEDIADL_DOWNLOAD_DIR on one shared folder. A worker that stops
puts its running jobs back on the queue (their work is kept); one that dies is noticed when its
jobs' leases expire (MEDIADL_JOB_LEASE) and they run again elsewhere, from what is on disk.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

from mediadl.cli.common import stderr

__all__ = ["command"]


def command(
    threads: int | None = typer.Option(
        None, "--threads", help="Jobs run at once by this worker. Default: MEDIADL_JOB_WORKERS."
    ),
    allow_network: list[str] = typer.Option(
        [],
        "--allow-network",
        metavar="CIDR",
        help="A network links may lead to even when it is local; repeat for more. Added to "
        "MEDIADL_ALLOW_NETWORKS.",
    ),
    log_level: str = typer.Option("info", help="debug, info, warning or error."),
) -> None:
    from mediadl.jobs import Worker
    from mediadl.logsetup import configure
    from mediadl.settings import Settings

    try:
        settings = Settings()
        if allow_network:
            values: dict[str, Any] = settings.model_dump()
            values["allow_networks"] = [*settings.allow_networks, *allow_network]
            settings = Settings.model_validate(values)
    except ValueError as exc:
        stderr.print(f"mediadl worker: invalid setting: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    if settings.queue == "sqlite":
        stderr.print(
            "mediadl worker: MEDIADL_QUEUE is sqlite; mediadl serve runs those jobs itself. "
            "Set MEDIADL_QUEUE=redis://host:port/db to share jobs between machines.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    configure(settings.log_format, log_level)
    worker = Worker(settings, threads if threads is not None else settings.job_workers)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    worker.start()
    while not done.wait(1.0):
        pass
    worker.stop()
