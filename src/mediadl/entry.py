"""The ``mediadl`` console script: ``--version`` and ``--help`` answered before the CLI loads.

Importing the commands imports typer, rich, pydantic and yt-dlp (most of a second on a busy
machine); printing a version or the list of commands needs none of it. Versions come from the
installed packages' metadata, the JavaScript runtime's without starting it; the top-level help is
:data:`ROOT_HELP`, the text the CLI itself prints (a test keeps the two equal).
"""

from __future__ import annotations

import os
import shutil
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
  (`mediadl doctor` shows the proxy, cookies and JavaScript runtime in force).
  Flags of `get` and `info` can have their own defaults in
  ~/.config/mediadl/config.toml ($XDG_CONFIG_HOME/mediadl/config.toml).
"""


def version_text() -> str:
    """``mediadl X``, ``yt-dlp Y`` and the JavaScript runtime's name and version, one a line."""
    lines = [f"mediadl {_version('mediadl')}", f"yt-dlp {_version('yt-dlp')}"]
    lines.append(f"js runtime: {_runtime_version()}")
    return "\n".join(lines)


def _version(dist: str) -> str:
    """An installed distribution's version, from its ``NAME-VERSION.dist-info`` folder's name.

    ``importlib.metadata`` answers the same but imports the email package to parse metadata
    files (~35 ms, a quarter of the command); it is the fallback for other kinds of install.
    """
    prefix = dist.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")  # noqa: PTH208 - pathlib costs an import here
        except OSError:
            continue
        for name in names:
            if name.lower().startswith(prefix) and name.endswith(".dist-info"):
                return name[len(prefix) : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _runtime_version() -> str:
    """The ``js_runtime`` setting's runtime, read from the environment as the settings do
    (names of variables are not case-sensitive there either), without loading them.

    The runtime is not started (deno alone takes ~50 ms to say its version): the ``deno`` wheel's
    binary is the wheel's version; any other binary is named by its path, and ``mediadl doctor``
    runs it and reports its version.
    """
    from mediadl.paths import env_setting
    from mediadl.runtimes import check_js_runtime, wheel_deno

    wanted = env_setting("js_runtime")
    if wanted is None:
        wanted = "deno"
    try:
        spec = check_js_runtime(wanted)
    except ValueError as exc:
        return f"invalid setting (Value error, {exc})"
    name, _, path = spec.partition(":")
    if name == "none":
        return "none"
    wheel = wheel_deno() if name == "deno" else None
    if wheel is not None and _same_file(path, wheel):
        return f"deno {_version('deno').split('.post')[0]}"
    return f"{name} at {path} (mediadl doctor checks it)"


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)  # noqa: PTH121 - as above
    except OSError:
        return False


def main() -> None:
    args = sys.argv[1:]
    if args in VERSION_FLAGS:
        print(version_text())
        sys.exit(0)
    if args in HELP_FLAGS and shutil.get_terminal_size().columns >= HELP_COLUMNS:
        print(ROOT_HELP, end="")
        sys.exit(0)
    from mediadl import regexcache
    from mediadl.paths import data_dir_from_env

    regexcache.install(data_dir_from_env() / "cache")
    from mediadl.cli import main as cli_main

    cli_main()
