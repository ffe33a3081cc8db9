"""Every setting of mediadl, declared once: name, type, default, help and environment variable.

Each field reads ``MEDIADL_<NAME>`` from the environment; the CLI and the docs are generated from
these declarations, and a test checks that every one is documented.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/mediadl`` or ``~/.local/share/mediadl``."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mediadl"


class Settings(BaseSettings):
    """Typed configuration shared by the engine, the service and the CLI."""

    model_config = SettingsConfigDict(
        env_prefix="MEDIADL_", frozen=True, extra="forbid", validate_default=True
    )

    # --- where things live -------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the server secret, job state and temporary work.",
    )
    ffmpeg: str | None = Field(
        default=None,
        description="Path to an ffmpeg binary. Default: a system ffmpeg, else the bundled one.",
    )

    # --- fetching ------------------------------------------------------------------------------
    fetch_connections: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Most parallel connections for one progressive download or fragment pool.",
    )
    fetch_retries: int = Field(
        default=10,
        ge=0,
        le=100,
        description="Retries for one request (a range, a fragment) before the download fails.",
    )
    connect_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for a connection to an upstream server."
    )
    read_timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds without a byte from upstream before a request counts as stalled.",
    )
    extract_timeout: float = Field(
        default=60.0, gt=0, description="Seconds one extraction (reading a page) may take."
    )

    # --- what strangers may make us do -----------------------------------------------------------
    allow_loopback: bool = Field(
        default=False,
        description="Let extraction and fetching reach loopback addresses (local development).",
    )
    max_playlist_items: int = Field(
        default=200, ge=1, description="Most entries read from one playlist or multi-item post."
    )
    max_duration: float | None = Field(
        default=None, gt=0, description="Longest media, in seconds, accepted for download."
    )
    max_filesize: int | None = Field(
        default=None, gt=0, description="Largest file, in bytes, accepted for download."
    )
    allow_live: bool = Field(
        default=False, description="Accept live streams (they have no end, so they're refused)."
    )
