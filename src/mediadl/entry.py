"""The ``mediadl`` console script: ``--version`` and ``--help`` answered before the CLI loads.

Importing the commands imports typer, rich, pydantic and yt-dlp (most of a second on a busy
machine); printing a version or the list of commands needs none of it. Versions come from the
installed packages' metadata, the runtime's from its binary; the top-level help is
:data:`ROOT_HELP`, the text the CLI itself prints (a test keeps the two equal).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

__all__ = ["HELP_FLAGS", "ROOT_HELP", "VERSION_FLAGS", "main", "version_text"]

VERSION_FLAGS = (["--version"], ["-V"])
HELP_FLAGS = (["--help"], ["-h"])
HELP_COLUMNS = 80
"""From this terminal width on, the CLI's top-level help is the same text (click caps it at 80)."""

ROOT_HELP = """\
Usage: mediadl [OPTIONS] COMMAND [ARGS]...

  Fast and free all-in-one video downloader.

Options:
  -V, --version         Print the versions of mediadl, yt-dlp and the
                        JavaScript runtime.
  --install-completion  Install completion for the current shell.
  --show-completion     Show completion for the current shell, to copy it or
                        customize the installation.
  -h, --help            Show this message and exit.

Commands:
  get     Download one or more links.
  info    Show what a link holds and the choices it offers.
  serve   Start the web page and the JSON APIs.
  worker  Run jobs from a shared Redis queue beside the servers.
  sites   The sites mediadl names, and which extractor takes a link.
  doctor  Check this installation.
  jobs    Add, list, cancel and retry jobs on a mediadl server.

  Settings: every MEDIADL_* environment variable is listed in docs/settings.md
  (`mediadl doctor` shows the ones in force). Flags of `get` and `info` can
  have their own defaults in ~/.config/mediadl/config.toml
  ($XDG_CONFIG_HOME/mediadl/config.toml).
"""


def version_text() -> str:
    """``mediadl X``, ``yt-dlp Y`` and the JavaScript runtime's name and version, one a line."""
    lines = [f"mediadl {_version('mediadl')}", f"yt-dlp {_version('yt-dlp')}"]
    lines.append(f"js runtime: {_runtime_version()}")
    return "\n".join(lines)


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _runtime_version() -> str:
    """The ``js_runtime`` setting's runtime, read from the environment as the settings do
    (names of variables are not case-sensitive there either), without loading them."""
    from mediadl.runtimes import check_js_runtime

    wanted = next((v for k, v in os.environ.items() if k.upper() == "MEDIADL_JS_RUNTIME"), "deno")
    try:
        spec = check_js_runtime(wanted)
    except ValueError as exc:
        return f"invalid setting (Value error, {exc})"
    name, _, path = spec.partition(":")
    if name == "none":
        return "none"
    flag = "--help" if name == "quickjs" else "--version"
    try:
        out = subprocess.run(
            [path, flag], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return f"{name} (does not run)"
    words = out.split()
    version = words[1] if name == "deno" and len(words) > 1 else (words[:1] or ["?"])[0]
    return f"{name} {version.removeprefix('v')}"


def main() -> None:
    args = sys.argv[1:]
    if args in VERSION_FLAGS:
        print(version_text())
        sys.exit(0)
    if args in HELP_FLAGS and shutil.get_terminal_size().columns >= HELP_COLUMNS:
        print(ROOT_HELP, end="")
        sys.exit(0)
    from mediadl.cli import main as cli_main

    cli_main()
