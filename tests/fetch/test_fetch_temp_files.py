"""What a stream writes to disk: only under data_dir/tmp, at most ``stream_disk_max``, and nothing
left once the stream completes, fails or its consumer leaves. Real downloads from the fixture site.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mediadl import errors
from mediadl.engine.fetch import native, stream_format
from mediadl.engine.fetch.scratch import DiskBound, stream_temp_dir, temp_prefix
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings
from mediadl_fixtures.knobs import Knobs
from mediadl_fixtures.server import FixtureSite

MiB = 1 << 20


def open_spill_files(folder: Path) -> int:
    """Files under ``folder`` this process holds open (spill files are unlinked at once)."""
    fds = Path("/proc/self/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(str(fd.readlink()))
        except OSError:
            continue
    return sum(1 for t in targets if t.startswith(f"{folder}/"))


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def small_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments waiting their turn get 512 KiB of memory, so the fixture's spill to disk."""
    monkeypatch.setattr(native, "SEGMENT_MEMORY", 512 * 1024)


@pytest.fixture
def slow_head(site: FixtureSite, dash_formats: dict[str, Format]) -> Format:
    """The DASH video whose first part (the init section) comes 2.5 s late: the 16 parts after
    it (~2.4 MB) arrive ahead of their turn."""
    fmt = dash_formats["video"]
    raw = dict(fmt.raw)
    fragments = [dict(f) for f in raw["fragments"]]
    base = site.base_url
    late = base + Knobs(latency=2500).prefix() + raw["fragment_base_url"][len(base) :]
    fragments[0]["url"] = late + fragments[0].pop("path")
    raw["fragments"] = fragments
    return dataclasses.replace(fmt, raw=raw)


@pytest.fixture
def patient(fast: Settings) -> Settings:
    """Waits out the late init section."""
    return fast.model_copy(update={"read_timeout": 10.0})


@pytest.mark.usefixtures("small_memory")
async def test_parts_ahead_spill_under_data_dir_and_are_gone_when_the_stream_ends(
    slow_head: Format,
    dash_formats: dict[str, Format],
    dash_bytes: Callable[[Format], bytes],
    patient: Settings,
) -> None:
    tmp = patient.data_dir / "tmp"
    out, most = bytearray(), 0
    async for chunk in stream_format(slow_head, patient):
        out += chunk
        most = max(most, open_spill_files(tmp))
    assert bytes(out) == dash_bytes(dash_formats["video"])
    assert most > 0
    assert open_spill_files(tmp) == 0
    assert files_in(tmp) == []


@pytest.mark.usefixtures("small_memory")
async def test_spill_files_are_gone_when_the_consumer_leaves(
    slow_head: Format, patient: Settings
) -> None:
    tmp = patient.data_dir / "tmp"
    stream = stream_format(slow_head, patient)
    assert await anext(stream)
    assert open_spill_files(tmp) > 0
    await stream.aclose()
    assert open_spill_files(tmp) == 0


@pytest.mark.usefixtures("small_memory")
async def test_spilling_past_stream_disk_max_ends_the_stream(
    slow_head: Format, patient: Settings
) -> None:
    settings = patient.model_copy(update={"stream_disk_max": 300_000})
    tmp = settings.data_dir / "tmp"
    with pytest.raises(errors.ContentTooLarge) as caught:
        async for _ in stream_format(slow_head, settings):
            pass
    assert caught.value.context["limit"] == 300_000
    assert caught.value.status == 413
    assert open_spill_files(tmp) == 0


# -- formats only yt-dlp's downloaders fetch: a whole temporary copy, then streamed --------------


def handed_to_ytdlp(site: FixtureSite, **knobs: object) -> Format:
    """The progressive file, marked live: mediadl's fetcher hands it to yt-dlp."""
    url = site.url("progressive", **knobs)
    return Format(id="p", url=url, protocol="https", ext="mp4", raw={"is_live": True})


async def test_a_fallback_copy_lives_under_data_dir_until_the_stream_ends(
    site: FixtureSite, fast: Settings
) -> None:
    tmp = fast.data_dir / "tmp"
    out = bytearray()
    stream = stream_format(handed_to_ytdlp(site), fast)
    out += await anext(stream)
    (copy,) = files_in(tmp)
    assert copy.stat().st_size == site.media["progressive"].stat().st_size
    async for chunk in stream:
        out += chunk
    assert bytes(out) == site.media["progressive"].read_bytes()
    assert list(tmp.iterdir()) == []


async def test_a_fallback_copy_is_gone_when_the_consumer_leaves(
    site: FixtureSite, fast: Settings
) -> None:
    tmp = fast.data_dir / "tmp"
    stream = stream_format(handed_to_ytdlp(site), fast, start=1000)
    first = await anext(stream)
    assert first == site.media["progressive"].read_bytes()[1000 : 1000 + len(first)]
    assert files_in(tmp)
    await stream.aclose()
    assert list(tmp.iterdir()) == []


async def test_a_fallback_copy_is_gone_when_the_download_is_cancelled(
    site: FixtureSite, fast: Settings
) -> None:
    tmp = fast.data_dir / "tmp"
    cancel = CancelToken()
    stream = stream_format(handed_to_ytdlp(site, rate=300_000), fast, cancel=cancel)
    reading = asyncio.ensure_future(anext(stream))
    while not files_in(tmp):  # yt-dlp has started writing its copy
        await asyncio.sleep(0.05)
    cancel.cancel()
    with pytest.raises(errors.Cancelled):
        await reading
    await stream.aclose()
    assert list(tmp.iterdir()) == []


async def test_a_fallback_copy_past_stream_disk_max_ends_the_stream(
    site: FixtureSite, fast: Settings
) -> None:
    settings = fast.model_copy(update={"stream_disk_max": 1 * MiB})
    tmp = settings.data_dir / "tmp"
    with pytest.raises(errors.ContentTooLarge) as caught:
        async for _ in stream_format(handed_to_ytdlp(site), settings):
            pass
    assert caught.value.context["limit"] == 1 * MiB
    assert list(tmp.iterdir()) == []


def test_the_folder_check_catches_downloaders_that_report_nothing(tmp_path: Path) -> None:
    bound = DiskBound(tmp_path, 1000)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "part").write_bytes(b"x" * 600)
    bound.check()
    (tmp_path / "b").write_bytes(b"x" * 600)
    with pytest.raises(errors.ContentTooLarge):
        bound.check()


_DIES_HOLDING_A_FOLDER = """
import os, signal, sys, tempfile
from mediadl.engine.fetch.scratch import temp_prefix
folder = tempfile.mkdtemp(prefix=temp_prefix(), dir=sys.argv[1])
open(os.path.join(folder, "media.mp4"), "wb").write(b"x" * 4096)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_folders_of_a_killed_process_go_when_the_next_one_streams(
    settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL leaves a stream's copy behind; the next process's first stream removes it, and
    leaves a live process's folder and another host's alone."""
    settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    tmp = settings.data_dir / "tmp"
    tmp.mkdir(parents=True)
    killed = subprocess.run([sys.executable, "-c", _DIES_HOLDING_A_FOLDER, str(tmp)], check=False)
    assert killed.returncode == -9
    (left,) = tmp.iterdir()
    assert files_in(left)
    dead_pid = int(left.name.removeprefix(f"stream-{socket.gethostname()}-").split("-")[0])
    live = tmp / f"{temp_prefix()}abcd1234"
    elsewhere = tmp / f"stream-another-host-{dead_pid}-abcd1234"
    live.mkdir()
    elsewhere.mkdir()

    assert stream_temp_dir(settings) == tmp
    assert sorted(tmp.iterdir()) == sorted([live, elsewhere])
