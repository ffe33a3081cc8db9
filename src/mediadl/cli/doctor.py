"""Check this installation: versions, YouTube's challenge solver, internals, proxy and cookies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from mediadl.cli.common import EXIT_FAILED, cli_settings, print_json, stdout

if TYPE_CHECKING:  # the checks are imported when doctor runs, not with every command
    from mediadl.engine.diagnostics import Diagnosis

__all__ = ["command"]

_OK, _BAD = "[green]ok[/]", "[bold red]broken[/]"


def command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from mediadl.engine.diagnostics import diagnose

    diagnosis = diagnose(cli_settings(check=False))
    if as_json:
        print_json(diagnosis.as_dict())
    else:
        _show(diagnosis)
    if diagnosis.problems:
        raise typer.Exit(EXIT_FAILED)


def _show(d: Diagnosis) -> None:
    table = Table(box=None, pad_edge=False)
    table.add_column("component", no_wrap=True)
    table.add_column("version", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("where / why", overflow="fold")
    for c in d.components:
        version = c.version
        if c.ok and c.path and c.detail:  # the runtime: its name, then its version
            version = f"{c.detail} {c.version}"
        note = c.path or c.detail or ""
        if c.path and c.detail and not c.ok:
            note = f"{c.detail} ({c.path})"
        table.add_row(c.name, _text(version), _OK if c.ok else _BAD, escape(note))
    stdout.print(table)
    stdout.print()
    state = _OK if d.solver_ready else ("[yellow]off[/]" if d.js_runtime is None else _BAD)
    stdout.print(f"YouTube's challenge solver: {state}  {escape(d.solver_detail)}")
    stdout.print(f"proxy: {escape(d.proxy or 'none')}")
    if d.cookies_file is None:
        stdout.print("cookies: none")
    else:
        readable = "readable" if d.cookies_readable else "[bold red]not readable[/]"
        stdout.print(f"cookies: {escape(d.cookies_file)} ({readable})")
    _show_internals(d)
    if d.problems:
        stdout.print()
        for problem in d.problems:
            stdout.print(f"[bold red]problem[/] {escape(problem)}")


def _show_internals(d: Diagnosis) -> None:
    stdout.print()
    if not d.internals:
        stdout.print("internals: none in use")
        return
    table = Table(box=None, pad_edge=False, title="internals", title_justify="left")
    for column in ("name", "state", "reason", "fallback"):
        table.add_column(column, overflow="fold")
    for item in d.internals:
        table.add_row(*(escape(item.get(k) or "") for k in ("name", "state", "reason", "fallback")))
    stdout.print(table)


def _text(value: str | None) -> str:
    return escape(value) if value else "[dim]-[/]"
