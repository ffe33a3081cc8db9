"""``--download-sections``: a time range kept by stream copy (no re-encoding): the cut file's
video packets are the source's own bytes, and it lasts as long as the range asked for."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl


def video_packets(path: Path, count: int) -> list[bytes]:
    with av.open(str(path)) as container:
        packets = (bytes(p) for p in container.demux(video=0) if p.size)
        return [next(packets) for _ in range(count)]


def test_a_range_is_cut_without_re_encoding(site: FixtureSite, tmp_path: Path) -> None:
    done = run_mediadl(
        "get", site.pages["video"], "--download-sections", "*0:10-0:20", "--json",
        "-o", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (item,) = [json.loads(line) for line in done.stdout.splitlines()]
    path = Path(item["path"])
    result = probe(path)
    assert result.duration is not None and 9.9 <= result.duration <= 11.0
    assert item["duration"] == pytest.approx(result.duration)
    assert result.video is not None and result.audio is not None
    source = site.media["progressive"].read_bytes()
    assert all(packet in source for packet in video_packets(path, 5))  # copied, not encoded


def test_a_range_to_the_end(site: FixtureSite, tmp_path: Path) -> None:
    full = probe(site.media["progressive"]).duration
    assert full is not None
    done = run_mediadl(
        "get", site.pages["video"], "--download-sections", "*50-", "-o", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    duration = probe(path).duration
    assert duration is not None and full - 50 - 0.2 <= duration <= full - 50 + 1.0


@pytest.mark.parametrize("text", ["x", "20-10", "1:2:3:4-5"])
def test_a_range_that_cannot_be_is_refused_before_any_request(text: str, tmp_path: Path) -> None:
    done = run_mediadl("get", "http://127.0.0.2:1/x", "--download-sections", text)
    assert done.returncode == 2
    assert "--download-sections" in done.stderr
    assert "Traceback" not in done.stderr
