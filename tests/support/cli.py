"""The ``mediadl`` command as a person runs it: a real process, its output and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["run_mediadl"]


def run_mediadl(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m mediadl ARGS`` with ``env`` (default: this process's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "mediadl", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=dict(os.environ if env is None else env),
        check=False,
    )
