"""Every protocol, every fault the fixture site can inject: byte-identical output or nothing.

Reference bytes come from the site's own files: the progressive MP4, the segments listed by each
media playlist (AES plaintext = the plain playlist's segments), the init section of fMP4 streams
and the files behind each DASH fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mediadl.engine.fetch import fetch_format
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]

FAULTS: dict[str, dict[str, Any]] = {
    "clean": {},
    "no-range": {"norange": 1},
    "drops": {"drop": 20_000},
    "drop-first": {"drop": 50_000, "dropfirst": 1},
    "503-first": {"fail": 2},
    "429-first": {"fail": 1, "failcode": 429},
    "stall-first": {"stall": 10_000, "stallfirst": 1, "stallsecs": 5},
    "long-length": {"badlength": 1000},
}
STREAMS = [
    "progressive",
    "hls_plain",
    "hls_byterange",
    "hls_aes",
    "hls_aes_noiv",
    "hls_discontinuity",
    "hls_fmp4_audio",
    "dash:video",
    "dash:audio",
]


def reference(
    name: str, site: FixtureSite, format_for: FormatFor, dash_bytes: Callable[[Format], bytes]
) -> bytes:
    media = site.mediaset
    if name == "progressive":
        return site.media["progressive"].read_bytes()
    if name.startswith("dash:"):
        return dash_bytes(format_for(name))
    plain = "hls_plain" if name.startswith("hls_aes") else name
    init = media.file(name).parent / "init.mp4"
    prefix = init.read_bytes() if "fmp4" in name else b""
    return prefix + b"".join(media.segment_bytes(plain))


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", STREAMS)
def test_faults_heal_byte_identically(
    name: str,
    fault: str,
    site: FixtureSite,
    format_for: FormatFor,
    fast: Settings,
    tmp_path: Path,
    dash_bytes: Callable[[Format], bytes],
) -> None:
    dest = tmp_path / "out.bin"
    fetch_format(format_for(name, **FAULTS[fault]), dest, settings=fast)
    assert dest.read_bytes() == reference(name, site, format_for, dash_bytes)
    assert list(tmp_path.iterdir()) == [dest]


def test_a_progressive_file_over_many_connections_and_pieces(
    site: FixtureSite, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    dest = tmp_path / "out.mp4"
    fetch_format(format_for("progressive", rate=2_000_000, latency=5), dest, settings=fast)
    assert dest.read_bytes() == site.media["progressive"].read_bytes()
    assert site.stats.requests["/media/progressive.mp4"] > 2
