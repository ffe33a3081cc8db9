"""``mediadl serve`` as a real process: every media kind through tunnels, probed with PyAV;
resumes, replicas sharing a secret, restarts."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.media import assert_media

pytestmark = pytest.mark.slow


class Server(Protocol):
    """What the ``server`` and ``launch`` fixtures give (``conftest.Server``)."""

    base: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None: ...


DURATION = 60.0

CASES = [
    # page, download body, mode, container, video codec, height, audio codec
    ("video", {}, "passthrough", "mp4", "h264", 360, "aac"),
    ("hls", {"quality": 720}, "remux", "mp4", "h264", 720, "aac"),
    ("hls_fmp4", {"quality": 1080}, "remux", "mp4", "h264", 1080, "aac"),
    ("dash", {"quality": 360}, "remux", "mp4", "h264", 360, "aac"),
    ("hls", {"quality": 360, "container": "mkv"}, "remux", "matroska", "h264", 360, "aac"),
    ("hls", {"quality": 720, "mute": True}, "remux", "mp4", "h264", 720, None),
    ("audio", {"audio": "best"}, "passthrough", "mp4", None, None, "aac"),
    ("audio", {"audio": "mp3"}, "transcode", "mp3", None, None, "mp3"),
    ("hls", {"audio": "m4a"}, "remux", "mp4", None, None, "aac"),
    ("dash", {"audio": "opus"}, "transcode", "ogg", None, None, "opus"),
    ("mp3", {"audio": "best"}, "passthrough", "mp3", None, None, "mp3"),
]


def download(server: Server, page: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{server.base}/api/v1/download", json={"url": page, **body}, timeout=60)
    assert r.status_code == 200, r.text
    return dict(r.json())


def fetch(url: str, dest: Path, **headers: str) -> httpx.Response:
    """Stream ``url`` into ``dest``."""
    with httpx.stream("GET", url, headers=headers, timeout=60) as r, dest.open("wb") as out:
        for chunk in r.iter_bytes():
            out.write(chunk)
    return r


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_every_media_kind_through_a_tunnel(
    case: tuple[Any, ...], server: Server, site: FixtureSite, tmp_path: Path
) -> None:
    page, body, mode, container, vcodec, height, acodec = case
    answer = download(server, site.pages[page], body)
    assert answer["mode"] == mode
    out = tmp_path / answer["filename"]
    r = fetch(answer["tunnel"], out)
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["content-disposition"] or answer["filename"].isascii()
    assert "content-length" in r.headers or "estimated-content-length" in r.headers
    assert_media(
        out, container=container, vcodec=vcodec, height=height, acodec=acodec, duration=DURATION
    )


def test_remux_sends_its_first_bytes_before_the_source_is_fetched(
    server: Server, site: FixtureSite
) -> None:
    """At 1 MB/s in all the 720p rendition needs seconds to fetch: the tunnel's first
    bytes come while most of it is still unsent (the remux streams, it doesn't wait)."""
    answer = download(server, site.url("hls", total_rate=1_000_000), {"quality": 720})
    site.reset_counters()
    with httpx.stream("GET", answer["tunnel"], timeout=60) as r:
        first = next(r.iter_bytes())
        sent = site.stats.bytes_sent
    assert r.status_code == 200 and first
    rendition = site.mediaset.site_dir / "hls" / "v720"
    assert sent < sum(seg.stat().st_size for seg in rendition.glob("seg_*.ts")) // 2


def test_range_resume_is_byte_identical(server: Server, site: FixtureSite, tmp_path: Path) -> None:
    answer = download(server, site.pages["video"], {})
    whole = fetch(answer["tunnel"], tmp_path / "whole.mp4")
    size = int(whole.headers["content-length"])
    half = tmp_path / "half.mp4"
    with httpx.stream("GET", answer["tunnel"], timeout=60) as r, half.open("wb") as out:
        for chunk in r.iter_bytes():
            out.write(chunk)
            if out.tell() >= size // 2:
                break  # the connection drops halfway
    have = half.stat().st_size
    rest = fetch(answer["tunnel"], tmp_path / "rest.mp4", Range=f"bytes={have}-")
    assert rest.status_code == 206
    resumed = half.read_bytes() + (tmp_path / "rest.mp4").read_bytes()
    assert resumed == (tmp_path / "whole.mp4").read_bytes()
    assert resumed == site.media["progressive"].read_bytes()


def test_a_replica_with_the_same_secret_serves_the_tunnel(
    server: Server, launch: Callable[..., Server], site: FixtureSite, tmp_path: Path
) -> None:
    answer = download(server, site.pages["dash"], {"quality": 720})
    replica = launch("replica")
    stranger = launch("stranger", secret="a-different-secret-0123456789")
    moved = answer["tunnel"].replace(server.base, replica.base)
    r = fetch(moved, tmp_path / "out.mp4")
    assert r.status_code == 200
    assert probe(tmp_path / "out.mp4").video is not None
    refused = httpx.get(answer["tunnel"].replace(server.base, stranger.base))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "tunnel.invalid")


def test_a_restart_breaks_no_tunnel(
    launch: Callable[..., Server], site: FixtureSite, tmp_path: Path
) -> None:
    first = launch("first", secret=None, data="kept")
    answer = download(first, site.pages["video"], {})
    first.stop()
    second = launch("second", secret=None, data="kept")
    r = httpx.get(answer["tunnel"].replace(first.base, second.base), timeout=60)
    assert r.status_code == 200
    assert r.content == site.media["progressive"].read_bytes()


def test_cobalt_720p_as_a_new_user_tries_it(
    server: Server, site: FixtureSite, tmp_path: Path
) -> None:
    r = httpx.post(
        f"{server.base}/",
        json={"url": site.pages["hls"], "videoQuality": "720"},
        headers={"Accept": "application/json"},
    )
    assert r.json()["status"] == "tunnel"
    out = tmp_path / "cobalt.mp4"
    tunnel = fetch(r.json()["url"], out)
    assert tunnel.status_code == 200, out.read_bytes()[:500]
    result = probe(out)
    assert result.video is not None and result.video.height == 720
    assert result.duration == pytest.approx(DURATION, abs=0.5)


def children(pid: int) -> list[int]:
    """The ffmpeg processes of server ``pid`` (it also keeps its extraction forkserver).

    Read from every process's parent, not from ``/proc/PID/task/*/children``: that list is
    best effort, and misses children while the thread that started them comes and goes.
    """
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
            if int(rest.split()[1]) == pid and "ffmpeg" in name:
                found.append(int(stat.parent.name))
    return found


def test_a_client_leaving_mid_remux_stops_ffmpeg(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    alone = launch("alone")
    pid = alone.proc.pid
    # A site capped at 1 MB/s in all keeps ffmpeg busy for seconds: the test can't race its end.
    answer = download(alone, site.url("hls", total_rate=1_000_000), {"quality": 1080})
    with httpx.stream("GET", answer["tunnel"], timeout=60) as r:
        assert r.status_code == 200, r.read()
        chunks = r.iter_bytes()  # held: a dropped iterator closes the response, and the client
        first = next(chunks)  # would seem to leave before the check below
        assert first[4:8] == b"ftyp", first[:64]
        assert children(pid), "ffmpeg runs while the file streams"
    deadline = time.monotonic() + 60  # a guard for a loaded machine, not a measure
    while children(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children(pid) == []


@pytest.mark.parametrize(("page", "body"), [("video", {}), ("hls", {"quality": 1080})])
def test_a_client_leaving_ends_the_progress_stream_with_cancelled(
    server: Server, site: FixtureSite, page: str, body: dict[str, Any]
) -> None:
    """A page following a download the browser cancelled learns it at once, not never."""
    answer = download(server, site.url(page, total_rate=300_000), body)
    events = httpx.URL(server.base).join(answer["events"])
    with httpx.stream("GET", answer["tunnel"], timeout=60) as r:
        assert r.status_code == 200, r.read()
        chunks = r.iter_bytes()
        assert next(chunks)
    states = []
    with httpx.stream("GET", events, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                states.append(json.loads(line.removeprefix("data:")))
    assert states[-1]["stage"] == "error", states
    assert states[-1]["error"]["code"] == "cancelled"
    assert all(s["stage"] != "done" for s in states)
