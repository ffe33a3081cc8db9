"""``python -m mediadl.cli.manpage``: the manual page (roff), made from the CLI's own help.

One source of truth: the text of ``mediadl --help`` and of each ``mediadl COMMAND --help``,
laid out as man(7) sections; ``make man`` writes it to docs/mediadl.1 (``man ./docs/mediadl.1``).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import typer
from typer.core import TyperGroup

from mediadl.cli import app

__all__ = ["manpage"]

WIDTH = 78


def manpage() -> str:
    group = typer.main.get_command(app)
    root = typer.Context(
        group,
        info_name="mediadl",
        max_content_width=WIDTH,
        terminal_width=WIDTH,
        help_option_names=["-h", "--help"],
    )
    lines = [
        f'.TH MEDIADL 1 "" "mediadl {metadata.version("mediadl")}" "User Commands"',
        ".SH NAME",
        "mediadl \\- " + _roff(group.help or ""),
        ".SH SYNOPSIS",
        _block(group.get_help(root)),
    ]
    lines += _sections(group, root, [])
    return "\n".join(lines) + "\n"


def _sections(group: Any, parent: typer.Context, path: list[str]) -> list[str]:
    """A section for each command, and one for each command of a group of commands
    (``JOBS``, then ``JOBS ADD``…)."""
    lines = []
    for name in group.list_commands(parent):
        command = group.get_command(parent, name)
        ctx = typer.Context(
            command, info_name=name, parent=parent, max_content_width=WIDTH, terminal_width=WIDTH
        )
        title = " ".join([*path, name]).upper()
        lines += [f".SH {title}", _block(command.get_help(ctx))]
        if isinstance(command, TyperGroup):
            lines += _sections(command, ctx, [*path, name])
    return lines


def _block(text: str) -> str:
    """Help text kept as laid out (no fill, no adjust), escaped for roff."""
    body = "\n".join(_roff(line) for line in text.splitlines())
    return f".nf\n.ad l\n{body}\n.fi"


def _roff(line: str) -> str:
    line = line.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + line if line.startswith((".", "'")) else line


if __name__ == "__main__":
    print(manpage(), end="")
