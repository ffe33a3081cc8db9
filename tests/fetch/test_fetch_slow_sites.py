"""Sites slow on purpose: an answer that never starts, a body that drips, a few bytes per
connection. Each fails with ``fetch.timeout`` or ``fetch.incomplete`` after a bounded number of
requests, where ``read_timeout`` alone (a byte now and then resets it) would go on for ever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mediadl import errors
from mediadl.engine.fetch import fetch_format
from mediadl.models import Format
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

FormatFor = Callable[..., Format]
RETRIES = 2
CONNECTIONS = 2
MOST_REQUESTS = CONNECTIONS * (RETRIES + 1) + CONNECTIONS
"""Each connection's tries, and a piece handed on once per connection."""


def slow_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "allow_networks": ["127.0.0.2/32"],
        "data_dir": tmp_path / "data",
        "read_timeout": 30.0,
        "first_byte_timeout": 30.0,
        "fetch_min_speed": 0,
        "fetch_retries": RETRIES,
        "fetch_connections": CONNECTIONS,
    }
    return Settings(**(values | overrides))


def fails(fmt: Format, settings: Settings, tmp_path: Path) -> errors.FetchError:
    dest = tmp_path / "out.mp4"
    with pytest.raises(errors.FetchError) as caught:
        fetch_format(fmt, dest, settings=settings)
    assert not dest.exists()
    return caught.value


def test_an_answer_that_never_starts_meets_the_first_byte_deadline(
    site: FixtureSite, format_for: FormatFor, tmp_path: Path
) -> None:
    settings = slow_settings(tmp_path, first_byte_timeout=0.5)
    failure = fails(format_for("progressive", latency=600_000), settings, tmp_path)
    assert failure.code == "fetch.timeout"
    assert "first byte" in failure.context["detail"]
    assert 0 < site.stats.connections_opened <= MOST_REQUESTS  # one per try, never answered


def test_a_body_that_drips_meets_the_least_speed(
    site: FixtureSite, format_for: FormatFor, tmp_path: Path
) -> None:
    """4 KiB every half second: never quiet for ``read_timeout``, yet far below the least speed.
    Each try brings more than a fresh start's worth of bytes, and still doesn't reset the count."""
    settings = slow_settings(tmp_path, read_timeout=2.0, fetch_min_speed=100_000)
    failure = fails(format_for("progressive", rate=8000), settings, tmp_path)
    assert failure.code == "fetch.timeout"
    assert "bytes per second" in failure.context["detail"]
    assert 0 < site.stats.requests["/media/progressive.mp4"] <= MOST_REQUESTS


def test_a_few_bytes_per_connection_is_not_progress(
    site: FixtureSite, format_for: FormatFor, tmp_path: Path
) -> None:
    """Range honoured, 5 bytes per connection: each try brings new bytes, none resets the count."""
    failure = fails(format_for("progressive", drop=5), slow_settings(tmp_path), tmp_path)
    assert failure.code == "fetch.incomplete"
    assert 0 < site.stats.requests["/media/progressive.mp4"] <= MOST_REQUESTS


def test_a_fast_site_meets_a_high_least_speed(
    site: FixtureSite, format_for: FormatFor, tmp_path: Path
) -> None:
    """The check judges only the time spent waiting for the site: a site that sends at once
    passes even a demanding least speed, judged every half second."""
    settings = slow_settings(tmp_path, read_timeout=0.5, fetch_min_speed=1_000_000)
    dest = tmp_path / "out.mp4"
    fetch_format(format_for("progressive"), dest, settings=settings)
    assert dest.read_bytes() == site.media["progressive"].read_bytes()
