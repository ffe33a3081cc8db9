"""Settings read before the settings load (they cost a tenth of a second): where mediadl keeps
its state, and any one setting's variable as the settings would read it."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir_from_env", "default_data_dir", "env_setting"]


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/mediadl`` or ``~/.local/share/mediadl``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mediadl"


def env_setting(name: str) -> str | None:
    """The value of setting ``name``'s variable (``MEDIADL_<NAME>``, the variable's name not
    case-sensitive, as the settings read it), or ``None``."""
    wanted = f"MEDIADL_{name}".upper()
    return next((v for k, v in os.environ.items() if k.upper() == wanted), None)


def data_dir_from_env() -> Path:
    """The ``data_dir`` setting as the settings read it (else :func:`default_data_dir`)."""
    wanted = env_setting("data_dir")
    return Path(wanted) if wanted else default_data_dir()
