"""Every setting of mediadl, declared once: name, type, default, help and environment variable.

Each field reads ``MEDIADL_<NAME>`` from the environment; the CLI and the docs are generated from
these declarations, and a test checks that every one is documented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from uuid import UUID

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

    # --- the service (mediadl serve) -----------------------------------------------------------
    secret: SecretStr | None = Field(
        default=None,
        description="Key that signs download links (HMAC-SHA256); replicas sharing it serve "
        "each other's links. Default: one created at first start in the data directory.",
    )
    base_url: str | None = Field(
        default=None,
        description="Public origin put in the links the server hands out "
        "(https://dl.example.org). Default: the origin each request was made to.",
    )
    tunnel_ttl: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86400,
        description="Seconds a download link (tunnel) stays valid, resumes included.",
    )
    resolve_cache_ttl: float = Field(
        default=300.0,
        ge=0,
        description="Seconds a resolved link is kept in memory and answered without extraction.",
    )
    resolve_workers: int = Field(
        default=4, ge=1, le=64, description="Threads that run extractions (yt-dlp) in the server."
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="API keys (UUIDs, comma-separated) accepted as 'Authorization: Api-Key <key>'.",
    )
    api_key_required: bool = Field(
        default=False, description="Refuse API requests without one of the API keys."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["*"],
        description="Origins (comma-separated) whose web pages may call the API; * for any.",
    )
    cobalt_redirect: bool = Field(
        default=False,
        description="Answer cobalt requests for one plain file with a redirect to the site's "
        "own link instead of a tunnel (saves bandwidth; the link may only work from the server).",
    )

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """Environment values are comma-separated (a JSON list works too)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            UUID(key)  # raises ValueError: "badly formed hexadecimal UUID string"
        return [key.lower() for key in keys]


def settings_table() -> str:
    """Every setting as a Markdown table: the body of ``docs/settings.md``."""
    rows = [
        "| environment variable | type | default | what it does |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = "(computed)" if field.default_factory else repr(field.default)
        kind = getattr(field.annotation, "__name__", None) or str(field.annotation)
        kind = kind.replace("|", "\\|")
        rows.append(f"| `MEDIADL_{name.upper()}` | `{kind}` | `{default}` | {field.description} |")
    return "\n".join(rows) + "\n"


def render_docs() -> str:
    return (
        "# Settings\n\n"
        "Every setting is read from the environment (`MEDIADL_<NAME>`); the server and the CLI "
        "share them. This page is generated by `python -m mediadl.settings`.\n\n" + settings_table()
    )


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_docs())
