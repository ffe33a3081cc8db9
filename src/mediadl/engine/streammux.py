"""The mux while the segments arrive: ffmpeg reads each part through a pipe as it is fetched.

A segmented stream (HLS, DASH) is written to its ``.part`` file in order, so its first bytes
are final as soon as they are on disk (:class:`~mediadl.engine.fetch.growing.Growing`). Here one
feeder thread per part copies those bytes into a pipe of its own (``pipe:N``, ``sendfile``)
as they come, and ffmpeg, started with the fetch, remuxes them into the output file (which it
may seek: ``+faststart``). When the last byte lands, only the rest of the last segments and
ffmpeg's own finish remain.

The fetch never waits for ffmpeg: it writes to disk, and a feeder that blocks on a full pipe
(ffmpeg reading the other input for now) holds up nothing else, so two inputs read interleaved
can't deadlock. The parts stay on disk, whole, as before: a run that fails on the site's
claims (a wrong codec) is run again from the files with every part probed, and a resumed
download goes on from what is there (each part is fed from its start). Only plans whose
every part is a segmented stream and whose claims decide the run go this way (a progressive
MP4 may keep its index at the end, and a part to probe must be whole first): the others are
muxed after the fetch, as before.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from mediadl import errors
from mediadl.engine.fetch.growing import Growing, GrowthState
from mediadl.engine.fetch.native import handles
from mediadl.engine.ffmpeg import run_ffmpeg
from mediadl.engine.mux import build_args, progress_reader, unsure_parts
from mediadl.models import CancelToken, Plan

__all__ = ["INPUT_FORMATS", "StreamedMux", "feed_part", "streamable"]

log = logging.getLogger("mediadl.mux")

SEGMENTED = frozenset({"m3u8_native", "http_dash_segments"})
INPUT_FORMATS = "mov,mpegts,matroska,webm,mp3,aac,ogg,flac,wav"
"""What a piped part may be read as: media containers only, never a playlist format that
would make ffmpeg open other links itself."""
PIPE_SIZE = 1 << 20
"""Bytes a pipe holds (Linux lets anyone ask for up to 1 MiB): fewer wake-ups per segment."""


def streamable(plan: Plan) -> bool:
    """Whether ``plan``'s mux can read its parts while they are fetched."""
    return (
        plan.needs_ffmpeg
        and plan.choice.section is None
        and all(f.protocol in SEGMENTED and handles(f) for f in plan.formats)
        and not unsure_parts(plan)
    )


class StreamedMux:
    """``start()`` with the fetch; after it, ``fetched()`` then ``wait()``; ``abort()`` on a
    failed fetch. Raises like :func:`~mediadl.engine.ffmpeg.run_ffmpeg`."""

    def __init__(
        self,
        plan: Plan,
        growing: Sequence[Growing],
        out: Path,
        *,
        thumbnail: Path | None,
        subtitles: Sequence[tuple[str, Path]],
        ffmpeg: str | None,
        cancel: CancelToken,
        progress: Callable[[float], None],
    ) -> None:
        self.plan, self.growing, self.out = plan, list(growing), out
        self._extra = (thumbnail, list(subtitles), ffmpeg)
        self._stop = CancelToken()
        self._unlink = cancel.on_cancel(self._stop.cancel)
        self._progress = progress
        self._fetched = threading.Event()
        self._last = 0.0
        self._threads: list[threading.Thread] = []
        self._fed: list[bool] = []
        self._failure: BaseException | None = None

    def start(self) -> None:
        """ffmpeg and one feeder per part, running; each pipe's ends are theirs from here on."""
        pipes: list[tuple[int, int]] = []
        try:
            for _ in self.growing:
                pipes.append(_pipe())
        except OSError:
            for ends in pipes:
                for fd in ends:
                    os.close(fd)
            raise
        thumbnail, subtitles, ffmpeg = self._extra
        try:
            args = build_args(
                self.plan,
                [f"pipe:{read}" for read, _ in pipes],
                self.out,
                thumbnail=thumbnail,
                input_args=("-format_whitelist", INPUT_FORMATS),
                subtitles=subtitles,
            )
        except BaseException:
            for ends in pipes:
                for fd in ends:
                    os.close(fd)
            self._unlink()
            raise
        self._fed = [False] * len(pipes)
        reads = [read for read, _ in pipes]
        self._threads.append(
            threading.Thread(target=self._run, args=(args, reads, ffmpeg), name="mux", daemon=True)
        )
        for i, (growing, (_, write)) in enumerate(zip(self.growing, pipes, strict=True)):
            self._threads.append(
                threading.Thread(
                    target=self._feed, args=(i, growing, write), name=f"feed{i}", daemon=True
                )
            )
        for thread in self._threads:
            thread.start()

    def fetched(self) -> None:
        """The fetch is over: ffmpeg's progress is the download's from here on."""
        self._fetched.set()
        self._progress(self._last)

    def abort(self) -> None:
        """Stop ffmpeg and the feeders (the fetch failed or was cancelled) and wait for them;
        nothing is left to stop once :meth:`wait` returned."""
        self._stop.cancel()
        for growing in self.growing:
            growing.stop()
        self._join()

    def wait(self) -> None:
        """ffmpeg's end: every part fed whole and a clean exit, or its error."""
        self._join()
        if self._failure is not None:
            raise self._failure
        if not all(self._fed):
            raise errors.ProcessingFailed(detail="ffmpeg stopped reading a part before its end")

    def _join(self) -> None:
        for thread in self._threads:
            thread.join()
        self._unlink()

    def _run(self, args: list[str], reads: list[int], ffmpeg: str | None) -> None:
        try:
            report = progress_reader(self.plan, {}, self._report)
        except BaseException as exc:  # noqa: BLE001 - raised by wait() in the caller's thread
            for fd in reads:  # no ffmpeg to hand them to: the feeders then see EPIPE and end
                os.close(fd)
            self._failure = exc
            return
        try:  # from here the read ends are run_ffmpeg's to close, whatever happens
            run_ffmpeg(args, cancel=self._stop, ffmpeg=ffmpeg, on_progress=report, pass_fds=reads)
        except BaseException as exc:  # noqa: BLE001 - raised by wait() in the caller's thread
            self._failure = exc

    def _report(self, fraction: float) -> None:
        self._last = fraction
        if self._fetched.is_set():
            self._progress(fraction)

    def _feed(self, index: int, growing: Growing, pipe: int) -> None:
        try:
            self._fed[index] = feed_part(growing, pipe)
        except OSError as exc:  # EPIPE: ffmpeg stopped reading; its exit says why
            log.debug("feed %d ended: %s", index, exc)
        finally:
            os.close(pipe)


def feed_part(growing: Growing, pipe: int) -> bool:
    """Copy ``growing``'s final bytes into ``pipe`` as they come; whether all of it went."""
    source: int | None = None
    sent = 0
    try:
        while True:
            mark = growing.wait(sent)
            if mark.state is GrowthState.STOPPED or mark.path is None:
                return False
            if source is None:
                source = _open(mark.path, growing.dest)
            done = mark.state is GrowthState.DONE
            end = os.fstat(source).st_size if done else mark.size
            while sent < end:
                count = _send(pipe, source, sent, end - sent)
                if count == 0:
                    return False
                sent += count
            if done:
                return True
    finally:
        if source is not None:
            os.close(source)


def _send(pipe: int, source: int, offset: int, count: int) -> int:
    """Bytes of ``source`` at ``offset`` into ``pipe``: by ``sendfile`` (no copy through
    Python), or read and written where a file system or system can't send to a pipe."""
    try:
        return os.sendfile(pipe, source, offset, count)
    except OSError as exc:
        if exc.errno not in _NO_SENDFILE:
            raise
    data = os.pread(source, min(count, PIPE_SIZE), offset)
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]
    return len(data)


_NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP})


def _open(path: Path, dest: Path) -> int:
    """The part's file: ``.part`` while fetched, ``dest`` once renamed (same file)."""
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return os.open(dest, os.O_RDONLY)


def _pipe() -> tuple[int, int]:
    read, write = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    return read, write
