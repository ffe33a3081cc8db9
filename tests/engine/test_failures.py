"""Bad input gets its error code; faults either heal byte-identically or leave nothing behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine import Engine
from mediadl.models import CancelToken, Choice, Progress
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite


@pytest.mark.parametrize(
    ("link", "code"),
    [
        ("not a link", "link.invalid"),
        ("ftp://127.0.0.2/file.mp4", "link.unsupported"),
        ("file:///etc/passwd", "link.unsupported"),
    ],
)
def test_links_that_are_not_web_links(link: str, code: str, engine: Engine) -> None:
    with pytest.raises(errors.MediadlError) as caught:
        engine.resolve(link)
    assert caught.value.code == code


def test_a_404_page(site: FixtureSite, engine: Engine) -> None:
    with pytest.raises(errors.ContentUnavailable) as caught:
        engine.resolve(site.url("/pages/no-such-page.html"))
    assert caught.value.code == "content.unavailable" and caught.value.status == 404


def test_a_page_without_media(site: FixtureSite, engine: Engine) -> None:
    with pytest.raises(errors.ContentNoMedia) as caught:
        engine.resolve(site.pages["nomedia"])
    assert caught.value.code == "content.no_media"


def test_a_dead_server(engine: Engine) -> None:
    with pytest.raises(errors.FetchFailed) as caught:
        engine.resolve("http://127.0.0.2:9/video.html")
    assert caught.value.code == "fetch.failed"


@pytest.mark.parametrize(
    "knobs",
    [
        {"fail": 2},
        {"failcode": 429, "fail": 1},
        {"drop": 200_000, "dropfirst": 2},
        {"norange": 1},
    ],
)
def test_progressive_faults_heal_byte_identically(
    knobs: dict[str, object], site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.url("video", **knobs))
    path = engine.download(engine.plan(info, Choice(metadata=False)), tmp_path)
    assert path.read_bytes() == site.media["progressive"].read_bytes()
    assert list(tmp_path.iterdir()) == [path]


def test_hls_segments_dropped_midway_heal(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    # Manifests are smaller than the drop point: only segments are cut, on the first try.
    info = engine.resolve(site.url("hls", drop=20_000, dropfirst=1))
    path = engine.download(engine.plan(info, Choice(quality=360)), tmp_path)
    assert path.stat().st_size > 0 and list(tmp_path.iterdir()) == [path]


def test_missing_segment_fails_with_fetch_code_and_leaves_nothing(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.url("hls", missing="seg_003.ts"))
    with pytest.raises(errors.FetchError) as caught:
        engine.download(engine.plan(info, Choice(quality=360)), tmp_path)
    assert caught.value.code.startswith("fetch.")
    assert list(tmp_path.iterdir()) == []


def test_cancel_stops_at_once_and_leaves_nothing(
    site: FixtureSite, engine: Engine, tmp_path: Path
) -> None:
    info = engine.resolve(site.url("video", rate=200_000))
    cancel = CancelToken()
    started = threading.Event()

    def on_progress(event: Progress) -> None:
        if event.downloaded:
            started.set()

    threading.Thread(target=lambda: started.wait(60) and cancel.cancel(), daemon=True).start()
    site.reset_counters()
    with pytest.raises(errors.Cancelled):
        engine.download(engine.plan(info, Choice()), tmp_path, progress=on_progress, cancel=cancel)
    assert started.is_set()
    # at 200 kB/s a connection the file needs seconds: a cancel honoured at once leaves most unsent
    assert site.stats.bytes_sent < site.media["progressive"].stat().st_size // 2
    assert list(tmp_path.iterdir()) == []


def test_size_limit_is_enforced_on_bytes_received(site: FixtureSite, tmp_path: Path) -> None:
    engine = Engine(Settings(allow_networks=["127.0.0.2/32"], max_filesize=300_000))
    info = engine.resolve(site.pages["hls"])
    with pytest.raises(errors.ContentTooLarge) as caught:
        engine.download(engine.plan(info, Choice(quality=360)), tmp_path)
    assert caught.value.code == "content.too_large"
    assert list(tmp_path.iterdir()) == []
