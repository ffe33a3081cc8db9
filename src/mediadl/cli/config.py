"""The CLI's own defaults from ``config.toml``: one table per command, keys spelled as the flags.

    # ~/.config/mediadl/config.toml  ($XDG_CONFIG_HOME/mediadl/config.toml; MEDIADL_CONFIG wins)
    [get]
    quality = "720"
    output = "~/Videos"
    no-metadata = true

A flag on the command line wins over the file. The file feeds click's ``default_map``, so each
value goes through the same checks as the flag. A file that can't be read, or names a flag the
command doesn't have, stops the command with exit status 2 before any request.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ConfigFileError", "config_path", "default_map"]

COMMANDS = ("get", "info")
"""The commands a file may give defaults to (serve reads MEDIADL_* settings instead)."""


class ConfigFileError(ValueError):
    """The file can't be used; the message says where and why."""


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``MEDIADL_CONFIG``, else ``$XDG_CONFIG_HOME/mediadl/config.toml``, else
    ``~/.config/mediadl/config.toml``."""
    if environ.get("MEDIADL_CONFIG"):
        return Path(environ["MEDIADL_CONFIG"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "mediadl" / "config.toml"


def default_map(path: Path, commands: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{command: {parameter name: value}}`` from the file (``{}`` when there is none).

    ``commands``: click command objects by name, to turn flag spellings into parameter names.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"{path}: {exc}") from exc
    result: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if name not in COMMANDS or not isinstance(table, dict):
            raise ConfigFileError(
                f"{path}: [{name}] isn't a command with defaults here: use "
                + " or ".join(f"[{c}]" for c in COMMANDS)
            )
        result[name] = _parameters(path, name, table, commands[name])
    return result


def _parameters(path: Path, name: str, table: dict[str, Any], command: Any) -> dict[str, Any]:
    by_flag: dict[str, str] = {}
    negative: set[str] = set()  # the off side of an on/off pair: --no-playlist, --no-overwrites
    for param in command.params:
        if param.param_type_name != "option":
            continue
        for flag in (*param.opts, *param.secondary_opts):
            if flag.startswith("--"):
                by_flag[flag[2:]] = param.name
        negative |= {flag[2:] for flag in param.secondary_opts if flag.startswith("--")}
    values: dict[str, Any] = {}
    for key, given in table.items():
        flag = key.replace("_", "-")
        if flag not in by_flag:
            raise ConfigFileError(f"{path}: [{name}] has no flag --{flag}")
        value = given
        if flag in negative and isinstance(given, bool):
            value = not given  # ``no-playlist = true`` sets --playlist/--no-playlist's value
        elif isinstance(given, str) and flag in ("output", "cookies"):
            value = str(Path(given).expanduser())
        values[by_flag[flag]] = value
    return values
