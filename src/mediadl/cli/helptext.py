"""``--help`` as a person reads it: names and words, no Python types, no cut descriptions.

Typer prints each argument with its Python type (``URL... <list[str]>``) and the usage line
with braces (``{urls}...``); a command list cuts descriptions to fit with "…". These classes
keep click's layout and print the argument's metavar alone, and each command's own one-line
summary whole (wrapped, not cut).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup

__all__ = ["SETTINGS_EPILOG", "HelpCommand", "HelpGroup"]

SETTINGS_EPILOG = (
    "Settings: every MEDIADL_* environment variable is listed in docs/settings.md "
    "(`mediadl doctor` shows the proxy, cookies and JavaScript runtime in force). Flags of "
    "`get` and `info` can have their own defaults in ~/.config/mediadl/config.toml "
    "($XDG_CONFIG_HOME/mediadl/config.toml)."
)


def _is_argument(param: Any) -> bool:
    return bool(param.param_type_name == "argument")


def _argument_record(param: Any) -> tuple[str, str]:
    name = param.metavar or (param.name or "").upper()
    help_text = getattr(param, "help", None) or ""
    if param.required:
        help_text = f"{help_text}  [required]" if help_text else "[required]"
    return name, help_text


class HelpCommand(TyperCommand):
    """A command whose help shows each argument by its metavar (``URL...``), never its type."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if _is_argument(param):
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            if _is_argument(param):
                arguments.append(_argument_record(param))
            elif (record := param.get_help_record(ctx)) is not None:
                options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


ROOT_HELP_WIDTH = 80
"""Where the top-level help wraps at most (``mediadl.entry.HELP_COLUMNS`` is the same)."""


class HelpGroup(TyperGroup):
    """The command list with each command's whole one-line summary.

    The top-level help is wrapped at 80 columns at most (the commands' own at 100), so that
    ``mediadl --help`` on any terminal at least 80 wide is the fixed text :mod:`mediadl.entry`
    prints without importing the CLI.
    """

    def get_help(self, ctx: Any) -> str:
        wide = ctx.max_content_width
        ctx.max_content_width = ROOT_HELP_WIDTH
        try:
            return str(super().get_help(ctx))
        finally:
            ctx.max_content_width = wide

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.short_help or command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
