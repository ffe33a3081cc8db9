"""Remuxing or transcoding on the fly: ffmpeg reads the feeder, streams a file out on a socket.

Video + audio become fragmented MP4, WebM or MKV with ``-c copy``; audio is copied or transcoded
(mp3, m4a, opus). The response starts once ffmpeg wrote its first bytes (the container header,
tens of milliseconds in), so a failure before that is still a proper JSON error; a failure
after it cuts the connection, so a client never keeps a truncated file for a whole one. A client
that leaves while ffmpeg hasn't written yet is seen all the same
(:mod:`mediadl.service.leaving`): the start is cancelled and ffmpeg killed.

ffmpeg writes its output and its messages to sockets (a ``socketpair`` each), not pipes: the event
loop then owns each one alone. uvloop (up to 0.23.0 at least) closes a pipe's descriptor in libuv
and then closes the pipe's file object too, and when ``connect_read_pipe`` is cancelled halfway
(a client leaving) it closes the descriptor and leaves the file object open for its garbage
collection to close again. Either second close shuts whatever took the number meanwhile: another
tunnel's connection ("File descriptor N is used by transport"), or one libuv still watches, and
libuv then aborts the process (SIGABRT, nothing on stderr). uvloop hands a socket's descriptor
over cleanly (``detach``) on every path (MagicStack/uvloop#763, #738).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Sequence
from typing import IO

import av

from mediadl import errors
from mediadl.engine.codecs import CONTAINER_RULES, codec_family
from mediadl.engine.ffmpeg import FFmpegProcess
from mediadl.engine.mux import build_args
from mediadl.models import Format, Plan
from mediadl.service.feeder import Feed, Feeder
from mediadl.settings import Settings

__all__ = ["INPUT_ARGS", "RemuxStream", "commands", "estimate_output"]

log = logging.getLogger("mediadl.service.remux")

CHUNK = 1 << 16
STDERR_KEEP = 8192
PROBE_TIMEOUT = 5.0
FEED_FORMATS = "mov,mpegts,matroska,webm,mp3,aac,ogg,flac,wav,flv"
INPUT_ARGS = (
    "-protocol_whitelist",
    "http,tcp",
    "-format_whitelist",
    FEED_FORMATS,
    "-probesize",
    "1000000",
    "-analyzeduration",
    "1000000",
)
"""Per input: ffmpeg may only read our feeder over HTTP and only media containers (no playlist
formats that would make it fetch other links itself), and probes briefly (fast first bytes)."""


class RemuxStream:
    """``await start()`` (ffmpeg running, first bytes read) then ``chunks()``; ``aclose()``."""

    def __init__(self, plan: Plan, feeder: Feeder, feeds: Sequence[Feed], settings: Settings):
        self.plan = plan
        self.feeds = list(feeds)
        self._feeder = feeder
        self._settings = settings
        self._forget: list[Callable[[], None]] = []
        self._procs: list[FFmpegProcess] = []
        self._stdout = asyncio.StreamReader(limit=CHUNK * 4)
        self._stderr = bytearray()
        self._drains: list[asyncio.Task[None]] = []
        self._unread: list[socket.socket] = []
        """Our ends of ffmpeg's output sockets, until the loop takes them."""
        self._reading: list[asyncio.BaseTransport] = []
        self._first = b""
        self.urls: list[str] = []
        """The feeder's links to the inputs, once started."""

    @property
    def received(self) -> int:
        """Bytes read from the site so far, all inputs together."""
        return sum(f.received for f in self.feeds)

    async def start(self) -> None:
        for feed in self.feeds:
            url, forget = self._feeder.register(feed)
            self.urls.append(url)
            self._forget.append(forget)
        runs = commands(self.plan, self.urls)
        stdin: IO[bytes] | None = None
        output: socket.socket | None = None
        for n, args in enumerate(runs):
            messages, messages_end = socket.socketpair()
            self._unread.append(messages)
            output_end = None
            if n == len(runs) - 1:
                output, output_end = socket.socketpair()  # the last ffmpeg's pipe:1
                self._unread.append(output)
            proc = await self._spawn(args, stdin, messages_end, output_end)
            if stdin is not None:
                stdin.close()  # the next ffmpeg holds it now
            self._procs.append(proc)
            self._drains.append(asyncio.create_task(self._drain_stderr(messages)))
            stdin = proc.proc.stdout
        assert output is not None
        await self._read(output, self._stdout)
        self._first = await self._stdout.read(CHUNK)
        if not self._first:
            await self._finish()
            raise errors.ProcessingFailed(detail=self._stderr_tail())

    async def _spawn(
        self,
        args: list[str],
        stdin: IO[bytes] | None,
        stderr: socket.socket,
        stdout: socket.socket | None,
    ) -> FFmpegProcess:
        """Start one ffmpeg (in a thread: starting a process blocks) writing its messages to
        ``stderr`` and its output to ``stdout`` (a pipe for the next ffmpeg when ``None``);
        those ends are ffmpeg's alone afterwards. Cancelled meanwhile (the client left), the
        process that starts anyway is still kept, so ``aclose`` kills it."""

        def start() -> FFmpegProcess:
            try:
                return FFmpegProcess(
                    args,
                    ffmpeg=self._settings.ffmpeg,
                    stdin=stdin,
                    stdout=subprocess.PIPE if stdout is None else stdout.fileno(),
                    stderr=stderr.fileno(),
                )
            finally:  # ffmpeg has its own copies: its exit must be the end of what we read
                stderr.close()
                if stdout is not None:
                    stdout.close()

        spawning = asyncio.ensure_future(asyncio.to_thread(start))
        try:
            return await asyncio.shield(spawning)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                self._procs.append(await spawning)
            raise

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._first:
            first, self._first = self._first, b""
            yield first
        while data := await self._stdout.read(CHUNK):
            yield data
        await self._finish()

    async def aclose(self) -> None:
        for proc in self._procs:
            if proc.proc.returncode is None:
                proc.kill()
        for forget in self._forget:
            forget()
        self._forget.clear()
        for proc in self._procs:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(proc.proc.wait, 5)
        for task in self._drains:
            task.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)
        for transport in self._reading:  # at ffmpeg's end a socket stays half open
            transport.close()
        for sock in self._unread:
            sock.close()
        self._unread.clear()

    async def source_duration(self) -> float | None:
        """Seconds of media in the first input, read from its header with PyAV (``None``: unknown).

        For size estimates when the site gave no duration; reads through the feeder like ffmpeg.
        """
        if not self.urls:
            return None
        try:
            return await asyncio.wait_for(asyncio.to_thread(_duration, self.urls[0]), PROBE_TIMEOUT)
        except (TimeoutError, av.FFmpegError, OSError):
            return None

    async def _finish(self) -> None:
        """ffmpeg ended its output: it must have exited cleanly and every feed be whole."""
        codes = [await asyncio.to_thread(proc.proc.wait) for proc in self._procs]
        await asyncio.gather(*self._drains, return_exceptions=True)
        failed = next((f.error for f in self.feeds if f.error is not None), None)
        if failed is not None:
            raise failed
        if any(codes):
            raise errors.ProcessingFailed(detail=self._stderr_tail(), returncode=max(codes))

    async def _read(self, sock: socket.socket, reader: asyncio.StreamReader) -> None:
        """Feed ``reader`` from ``sock``; the loop owns the socket from here on, and closes it
        itself if this is cancelled halfway."""
        self._unread.remove(sock)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_accepted_socket(
            lambda: asyncio.StreamReaderProtocol(reader), sock
        )
        self._reading.append(transport)

    async def _drain_stderr(self, sock: socket.socket) -> None:
        reader = asyncio.StreamReader()
        await self._read(sock, reader)
        while data := await reader.read(CHUNK):
            self._stderr += data
            del self._stderr[:-STDERR_KEEP]

    def _stderr_tail(self) -> str:
        lines = self._stderr.decode("utf-8", "replace").strip().splitlines()
        return "\n".join(lines[-5:])


def _duration(url: str) -> float | None:
    options = {"protocol_whitelist": "http,tcp", "format_whitelist": FEED_FORMATS}
    with av.open(url, options=options, timeout=PROBE_TIMEOUT) as container:
        return container.duration / 1_000_000 if container.duration else None


def commands(plan: Plan, inputs: Sequence[str]) -> list[list[str]]:
    """The ffmpeg runs, each reading the previous one's output: one, or two for MKV with AAC.

    Matroska written to a pipe needs every codec's configuration in its header, and AAC from
    MPEG-TS only has one once its first packet passed ``aac_adtstoasc``. MP4's ``delay_moov``
    waits for it; so such an MKV is made as fragmented MP4 first, then copied into Matroska.
    """
    if plan.ext == "mkv" and _aac_copy(plan) and _fits_mp4(plan):
        first = build_args(
            dataclasses.replace(plan, ext="mp4"),
            inputs,
            "pipe:1",
            thumbnail=None,
            input_args=INPUT_ARGS,
            streaming=True,
        )
        second = ["-f", "mp4", "-i", "pipe:0", "-map", "0", "-c", "copy", "-f", "matroska"]
        return [first, [*second, "-y", "pipe:1"]]
    return [
        build_args(plan, inputs, "pipe:1", thumbnail=None, input_args=INPUT_ARGS, streaming=True)
    ]


def _aac_copy(plan: Plan) -> bool:
    audio = plan.audio
    return (
        audio is not None
        and audio.action == "copy"
        and codec_family(audio.codec) in ("aac", "unknown")
    )


def _fits_mp4(plan: Plan) -> bool:
    video = plan.video
    if video is None:
        return True
    family = codec_family(video.codec) or "unknown"
    return video.action == "copy" and family in (*CONTAINER_RULES["mp4"].video, "unknown")


def estimate_output(
    plan: Plan, feeds: Sequence[Feed] = (), duration: float | None = None
) -> int | None:
    """Size the output will have, roughly: copied streams keep their size, transcoded audio
    takes bitrate × duration. ``None`` when nothing says."""
    duration = plan.info.duration or duration
    audio = plan.audio
    if audio is not None and audio.action == "transcode" and plan.video is None:
        if duration:
            return int(duration * _audio_bytes_per_second(plan, audio.source) * 1.02)
        return None
    if plan.video is not None and plan.video.action == "transcode":
        return None
    sizes = [f.total or f.estimate for f in feeds]
    if feeds and all(sizes):
        return sum(s for s in sizes if s)
    return plan.estimated_size


PCM_RATE = 44100
PCM_CHANNELS = 2


def _audio_bytes_per_second(plan: Plan, source: Format) -> float:
    """Transcoded audio: the bitrate asked for; PCM (WAV): 16-bit samples at the source's rate
    and channel count (CD audio when the site doesn't say)."""
    if plan.audio is not None and plan.audio.codec == "pcm_s16le":
        rate = source.raw.get("asr") or PCM_RATE
        channels = source.raw.get("audio_channels") or PCM_CHANNELS
        return float(rate) * float(channels) * 2
    return plan.choice.audio_bitrate * 125.0
