"""The server's signing key: ``MEDIADL_SECRET``, else one created once in the data directory.

Replicas that share the key serve each other's links, and a restart breaks none. The file is
written whole under a temporary name and linked into place, so two servers starting together
agree on one key and neither ever reads half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from mediadl.settings import Settings

__all__ = ["SECRET_FILE", "load_secret"]

SECRET_FILE = "secret"  # noqa: S105 - the file's name, not a password
_MIN_LENGTH = 16


def load_secret(settings: Settings) -> bytes:
    """The key as bytes; created (32 random bytes, hex) on first use when not configured."""
    if settings.secret is not None:
        value = settings.secret.get_secret_value().strip()
        if len(value) < _MIN_LENGTH:
            raise ValueError(f"MEDIADL_SECRET must have at least {_MIN_LENGTH} characters.")
        return value.encode()
    path = settings.data_dir / SECRET_FILE
    existing = _read(path)
    if existing:
        return existing
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, path)  # fails if another process won the race: use its key
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    key = _read(path)
    if not key:
        raise RuntimeError(f"the secret file {path} is empty")
    return key


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes().strip() or None
    except FileNotFoundError:
        return None
