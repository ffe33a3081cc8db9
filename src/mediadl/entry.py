"""The ``mediadl`` console script: ``--version`` answered before the CLI (and yt-dlp) is imported.

Importing the commands imports the engine and yt-dlp (about a second); a version check needs
none of it: versions come from the installed packages' metadata, the runtime's from itself.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

__all__ = ["main", "version_text"]

VERSION_FLAGS = (["--version"], ["-V"])


def version_text() -> str:
    """``mediadl X``, ``yt-dlp Y`` and the JavaScript runtime's name and version, one a line."""
    lines = [f"mediadl {_version('mediadl')}", f"yt-dlp {_version('yt-dlp')}"]
    lines.append(f"js runtime: {_runtime_version()}")
    return "\n".join(lines)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _runtime_version() -> str:
    from pydantic import ValidationError

    from mediadl.settings import Settings

    try:
        spec = Settings().js_runtime
    except ValidationError as exc:
        return f"invalid setting ({exc.errors()[0]['msg']})"
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
    if sys.argv[1:] in VERSION_FLAGS:
        print(version_text())
        sys.exit(0)
    from mediadl.cli import main as cli_main

    cli_main()
