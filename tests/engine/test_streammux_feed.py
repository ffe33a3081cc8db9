"""A part's feeder: the bytes the fetch reports final, in order, into a pipe, and nothing it
hasn't; the whole file once done, even when renamed meanwhile; nothing more once the part stops
or starts over."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediadl.engine.fetch.growing import Growing, GrowthState
from mediadl.engine.streammux import feed_part
from support.procs import eventually


class Reader:
    """The other end of the pipe, read in a thread (as ffmpeg would)."""

    def __init__(self, fd: int) -> None:
        self.data = bytearray()
        self._fd = fd
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := os.read(self._fd, 65536):
            self.data += chunk
        os.close(self._fd)

    def join(self) -> bytes:
        self._thread.join(timeout=60)
        return bytes(self.data)


@pytest.fixture
def pipe() -> Iterator[tuple[int, Reader]]:
    read, write = os.pipe()
    yield write, Reader(read)


def _write_at(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(data)


def _feed(growing: Growing, write: int) -> tuple[threading.Thread, list[bool]]:
    result: list[bool] = []

    def run() -> None:
        try:
            result.append(feed_part(growing, write))
        finally:
            os.close(write)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_only_final_bytes_go_then_the_whole_file_after_its_rename(
    tmp_path: Path, pipe: tuple[int, Reader]
) -> None:
    write, reader = pipe
    part, dest = tmp_path / "p.ts.part", tmp_path / "p.ts"
    part.write_bytes(b"AAAA????")  # the last four aren't final yet
    growing = Growing(dest)
    thread, result = _feed(growing, write)
    growing.grew(part, 4)
    assert growing.wait(3).size == 4
    _write_at(part, 4, b"BBBBCCCC")
    growing.grew(part, 8)
    part.replace(dest)  # the fetch's commit: the same file under its name
    growing.done()
    thread.join(timeout=60)
    assert reader.join() == b"AAAABBBBCCCC"
    assert result == [True]


def test_a_part_done_before_any_growth_is_read_from_its_destination(
    tmp_path: Path, pipe: tuple[int, Reader]
) -> None:
    """A part an earlier run finished, or one yt-dlp's downloader fetched."""
    write, reader = pipe
    dest = tmp_path / "p.ts"
    dest.write_bytes(b"x" * 300_000)
    growing = Growing(dest)
    growing.done()
    thread, result = _feed(growing, write)
    thread.join(timeout=60)
    assert reader.join() == b"x" * 300_000
    assert result == [True]


@pytest.mark.parametrize("how", ["stopped", "started over"])
def test_a_stopped_or_restarted_part_feeds_no_more(
    how: str, tmp_path: Path, pipe: tuple[int, Reader]
) -> None:
    write, reader = pipe
    part = tmp_path / "p.ts.part"
    part.write_bytes(b"AAAABBBB")
    growing = Growing(tmp_path / "p.ts")
    growing.grew(part, 4)
    thread, result = _feed(growing, write)
    assert eventually(lambda: len(reader.data) == 4)
    if how == "stopped":
        growing.stop()
    else:
        growing.grew(part, 0)  # truncated: what was fed is no longer the part's start
    growing.done()  # too late: the part stays stopped
    thread.join(timeout=60)
    assert reader.join() == b"AAAA"
    assert result == [False]
    assert growing.wait(0).state is GrowthState.STOPPED


def test_where_sendfile_cant_reach_a_pipe_the_bytes_are_read_and_written(
    tmp_path: Path, pipe: tuple[int, Reader], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object) -> int:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "sendfile", refuse)
    write, reader = pipe
    dest = tmp_path / "p.ts"
    dest.write_bytes(bytes(range(256)) * 12_000)  # more than a pipe holds at once
    growing = Growing(dest)
    growing.done()
    thread, result = _feed(growing, write)
    thread.join(timeout=60)
    assert reader.join() == dest.read_bytes()
    assert result == [True]
