"""Failures name what failed (host, status, fragment) with a fetch.* code, and leave nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mediadl import errors
from mediadl.engine.fetch import NativeFetcher, fetch_format
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]


def fails_with(
    fmt: Format, settings: Settings, tmp_path: Path, error: type[errors.MediadlError]
) -> errors.MediadlError:
    dest = tmp_path / "out.bin"
    with pytest.raises(error) as caught:
        fetch_format(fmt, dest, settings=settings)
    assert list(tmp_path.iterdir()) == []
    return caught.value


@pytest.mark.parametrize(
    ("name", "missing", "fragment"),
    [
        ("hls_plain", "seg_002.ts", "3"),
        ("hls_fmp4_audio", "init.mp4", "init"),
        ("dash:video", "init.mp4", "1"),
        ("hls_aes", "key.bin", "key"),
    ],
)
def test_a_missing_piece_is_named(
    name: str,
    missing: str,
    fragment: str,
    format_for: FormatFor,
    fast: Settings,
    tmp_path: Path,
    site: FixtureSite,
) -> None:
    fmt = format_for(name, missing=missing)
    if name.startswith("dash"):
        fmt = _renamed_fragment(fmt, 0, missing)
    error = fails_with(fmt, fast, tmp_path, errors.FetchFailed)
    assert error.code == "fetch.failed"
    assert error.context["status"] == 404
    assert error.context["fragment"] == fragment
    assert error.context["host"] == site.host
    assert f"part {fragment}" in error.message


def _renamed_fragment(fmt: Format, index: int, name: str) -> Format:
    """Point one DASH fragment at ``name`` in the same folder (the site's 404 knob matches it)."""
    raw = dict(fmt.raw)
    fragments = [dict(f) for f in raw["fragments"]]
    key = "url" if "url" in fragments[index] else "path"
    fragments[index][key] = (
        fragments[index][key].rsplit("/", 1)[0] + "/" + name
        if "/" in fragments[index][key]
        else name
    )
    raw["fragments"] = fragments
    return Format(id=fmt.id, url=fmt.url, protocol=fmt.protocol, ext=fmt.ext, raw=raw)


@pytest.mark.parametrize(
    ("knobs", "error", "status"),
    [
        ({"missing": "progressive.mp4"}, errors.FetchFailed, 404),
        ({"fail": 100, "failcode": 403}, errors.FetchForbidden, 403),
        ({"fail": 100}, errors.FetchFailed, 503),
        ({"fail": 100, "failcode": 429}, errors.FetchRateLimited, 429),
    ],
)
def test_statuses_map_to_the_error_tree(
    knobs: dict[str, Any],
    error: type[errors.FetchError],
    status: int,
    format_for: FormatFor,
    fast: Settings,
    tmp_path: Path,
) -> None:
    caught = fails_with(format_for("progressive", **knobs), fast, tmp_path, error)
    assert caught.context["status"] == status


def test_a_server_that_never_sends_times_out(
    format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    settings = fast.model_copy(update={"fetch_retries": 2, "read_timeout": 0.2})
    fmt = format_for("progressive", stall=0, stallsecs=5)
    fails_with(fmt, settings, tmp_path, errors.FetchTimeout)


@pytest.mark.parametrize("name", ["progressive", "hls_plain"])
def test_a_length_that_promises_less_than_the_range_is_incomplete(
    name: str, format_for: FormatFor, fast: Settings, tmp_path: Path
) -> None:
    settings = fast.model_copy(update={"fetch_retries": 2})
    error = fails_with(format_for(name, badlength=-1000), settings, tmp_path, errors.FetchError)
    assert error.code == "fetch.incomplete"


def test_a_dead_host_fails(fast: Settings, tmp_path: Path) -> None:
    fmt = Format(id="x", url="http://127.0.0.2:9/x.mp4", protocol="http", ext="mp4")
    settings = fast.model_copy(update={"fetch_retries": 1})
    assert fails_with(fmt, settings, tmp_path, errors.FetchFailed).context["host"] == "127.0.0.2"


def test_the_size_limit_counts_bytes(format_for: FormatFor, fast: Settings, tmp_path: Path) -> None:
    settings = fast.model_copy(update={"max_filesize": 100_000})
    fails_with(format_for("progressive"), settings, tmp_path, errors.ContentTooLarge)
    fails_with(format_for("progressive", norange=1), settings, tmp_path, errors.ContentTooLarge)
    fails_with(format_for("hls_plain"), settings, tmp_path, errors.ContentTooLarge)


@pytest.mark.parametrize("name", ["progressive", "hls_plain"])
def test_cancel_stops_at_once_and_leaves_nothing(
    name: str, format_for: FormatFor, fast: Settings, tmp_path: Path, site: FixtureSite
) -> None:
    """Cancelled at its first bytes, a download that needs seconds at 100 kB/s a connection
    ends with most of the source never sent, and no file left."""
    cancel = CancelToken()
    site.reset_counters()
    with pytest.raises(errors.Cancelled):
        fetch_format(
            format_for(name, rate=100_000),
            tmp_path / "out.bin",
            settings=fast,
            cancel=cancel,
            progress=lambda done, *_: done and cancel.cancel(),
        )
    assert site.stats.bytes_sent < source_size(site, name) // 2
    assert list(tmp_path.iterdir()) == []


def source_size(site: FixtureSite, name: str) -> int:
    if name.startswith("hls"):
        return sum(len(segment) for segment in site.mediaset.segment_bytes(name))
    return site.media[name].stat().st_size


def test_the_peer_check_sees_every_connection(
    format_for: FormatFor, fast: Settings, tmp_path: Path, site: FixtureSite
) -> None:
    seen: list[tuple[str, str]] = []

    def refuse(peer: str, host: str) -> None:
        seen.append((peer, host))
        raise errors.LinkForbidden(host=host)

    fetcher = NativeFetcher(fast, peer_check=refuse)
    with pytest.raises(errors.LinkForbidden):
        fetcher.fetch(format_for("progressive"), tmp_path / "out.mp4")
    assert seen == [(site.host, site.host)]
    assert list(tmp_path.iterdir()) == []
