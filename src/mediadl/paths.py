"""Where mediadl keeps its state, read before the settings load (they cost a tenth of a second)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir_from_env", "default_data_dir"]


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/mediadl`` or ``~/.local/share/mediadl``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mediadl"


def data_dir_from_env() -> Path:
    """The ``data_dir`` setting as the settings read it (``MEDIADL_DATA_DIR``, the name not
    case-sensitive, else :func:`default_data_dir`), without loading them."""
    wanted = next((v for k, v in os.environ.items() if k.upper() == "MEDIADL_DATA_DIR"), None)
    return Path(wanted) if wanted else default_data_dir()
