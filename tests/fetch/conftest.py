"""Fixtures for the fetcher's tests: fast-failing settings and formats built on the fixture site."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mediadl.engine.extract import resolve
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.knobs import Knobs
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]


@pytest.fixture
def fast(tmp_path: Path) -> Settings:
    """Short timeouts so stalls and dead ends show up in well under a second."""
    return Settings(
        allow_networks=["127.0.0.2/32"],
        data_dir=tmp_path / "data",
        read_timeout=0.5,
        connect_timeout=2.0,
        fetch_retries=5,
        fetch_connections=8,
    )


@pytest.fixture(scope="session")
def dash_formats(site: FixtureSite) -> dict[str, Format]:
    """The DASH audio and best video representations as yt-dlp reads them from the MPD."""
    info = resolve(site.url("dash_mpd"), Settings(allow_networks=["127.0.0.2/32"]))
    videos = sorted((f for f in info.formats if f.has_video), key=lambda f: f.height or 0)
    audio = next(f for f in info.formats if not f.has_video)
    return {"video": videos[-1], "audio": audio}


@pytest.fixture
def format_for(site: FixtureSite, dash_formats: dict[str, Format]) -> FormatFor:
    """``format_for("hls_plain", drop=20_000)``: a Format for a catalog asset behind knobs."""

    def build(name: str, **knobs: Any) -> Format:
        if name.startswith("dash:"):
            return with_knobs(dash_formats[name[5:]], site, Knobs.of(**knobs).prefix())
        protocol = "m3u8_native" if name.startswith("hls") else "https"
        return Format(id=name, url=site.url(name, **knobs), protocol=protocol, ext="mp4")

    return build


@pytest.fixture
def dash_bytes(site: FixtureSite) -> Callable[[Format], bytes]:
    """The bytes a DASH representation should come out as: its local files, in order."""
    return lambda fmt: dash_reference(fmt, site)


def with_knobs(fmt: Format, site: FixtureSite, prefix: str) -> Format:
    """``fmt`` with every URL of the site moved behind a knob prefix."""
    base = site.base_url

    def move(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(base + "/") and prefix:
            return base + prefix + value[len(base) :]
        if isinstance(value, Mapping):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    raw = move(dict(fmt.raw))
    return Format(id=fmt.id, url=move(fmt.url), protocol=fmt.protocol, ext=fmt.ext, raw=raw)


def dash_reference(fmt: Format, site: FixtureSite) -> bytes:
    """The bytes a DASH representation should come out as: its local files, in order."""
    out = bytearray()
    for fragment in fmt.raw["fragments"]:
        url = fragment.get("url") or fmt.raw["fragment_base_url"] + fragment["path"]
        out += site.mediaset.file(url[len(site.base_url) :]).read_bytes()
    return bytes(out)
