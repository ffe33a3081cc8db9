"""Carrying out a plan: fetch the parts, mux them, publish the file — or leave nothing behind.

Each download works in its own directory inside the output folder (same filesystem), and the
finished file appears under its real name in one atomic step. By default that step never
overwrites (``name (2).ext``) and a failed download leaves nothing.

A resumable download (the command line's) works in ``<name>.part/`` beside its target instead,
and keeps it when it stops: the next run of the same plan goes on from the formats and bytes
already there (:mod:`~mediadl.engine.fetch.resume`). The folder records which item and formats
it holds; a different plan for the same name starts it afresh.

:func:`produce` is the same resumable run for a caller that keeps its own work folder (jobs): it
makes the finished file inside that folder and leaves publishing, and removing the folder, to
the caller.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mediadl import errors
from mediadl.engine.fetch import FetchItem, fetch_formats
from mediadl.engine.fetch.growing import Growing
from mediadl.engine.filenames import numbered
from mediadl.engine.hls_master import with_audio_claim
from mediadl.engine.mux import THUMBNAIL_EXTS, mux, unsure_parts
from mediadl.engine.probe import ProbeProcess
from mediadl.engine.progress import ProgressTracker
from mediadl.engine.streammux import StreamedMux, streamable
from mediadl.engine.subtitles import fetch_subtitles, pick_tracks
from mediadl.engine.thumbnail import fetch_cover
from mediadl.models import CancelToken, Plan, Progress, ProgressHook, Stage
from mediadl.settings import Settings

__all__ = ["PART_SUFFIX", "WORK_PREFIX", "download", "produce", "publish", "work_folder"]

WORK_PREFIX = ".mediadl-"
PART_SUFFIX = ".part"
"""A resumable download's work folder: ``<file name>.part`` beside the file."""
_STATE = "mediadl.json"

log = logging.getLogger("mediadl.download")


def download(
    plan: Plan,
    out_dir: Path,
    *,
    settings: Settings,
    progress: ProgressHook | None = None,
    cancel: CancelToken | None = None,
    resume: bool = False,
    replace: bool = False,
) -> Path:
    """Produce ``plan``'s file in ``out_dir`` and return its path.

    ``resume``: work in ``work_folder(plan, out_dir)``, go on from what it holds and keep it
    when the download stops. ``replace``: a file already under the name is replaced, where
    otherwise the new one is saved as ``name (2).ext``.
    """
    _check_size(plan, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=out_dir))
        return _download_in(plan, out_dir, work, settings, progress, cancel, resume, replace)
    work = work_folder(plan, out_dir)
    with _claimed(work):
        _prepare(plan, work)
        return _download_in(plan, out_dir, work, settings, progress, cancel, resume, replace)


def produce(
    plan: Plan,
    work: Path,
    *,
    settings: Settings,
    progress: ProgressHook | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Make ``plan``'s file inside ``work`` and return its path there, resuming an earlier run.

    The run is :func:`download`'s resumable one: finished formats are kept, a ``.part`` goes on
    from its journal (a changed source starts over), a finished mux is not done again, and a
    folder that holds another plan's work is emptied first. The caller publishes the file and
    removes ``work``; on an error ``work`` stays as it is. A run still holding ``work`` (a job
    taken over before its earlier process stopped) is waited for, not failed.
    """
    _check_size(plan, settings)
    work.mkdir(parents=True, exist_ok=True)
    with _claimed(work, wait=True):
        _prepare(plan, work)
        made, _subtitles = _tracked_run(plan, work, settings, progress, cancel, resume=True)
    return made


def _download_in(  # noqa: PLR0917 - download's own arguments, passed on
    plan: Plan,
    out_dir: Path,
    work: Path,
    settings: Settings,
    progress: ProgressHook | None,
    cancel: CancelToken | None,
    resume: bool,
    replace: bool,
) -> Path:
    finished = False
    try:
        result, subtitles = _tracked_run(plan, work, settings, progress, cancel, resume=resume)
        final = publish(result, out_dir, plan.filename, replace=replace)
        if plan.choice.write_subtitles:
            for lang, path in subtitles:
                publish(path, out_dir, f"{final.stem}.{lang}{path.suffix}", replace=replace)
        finished = True
    finally:
        if finished or not resume or not _holds_bytes(work):
            shutil.rmtree(work, ignore_errors=True)
    if progress:
        progress(
            Progress(stage=Stage.DONE, downloaded=final.stat().st_size, total=final.stat().st_size)
        )
    return final


def _tracked_run(
    plan: Plan,
    work: Path,
    settings: Settings,
    progress: ProgressHook | None,
    cancel: CancelToken | None,
    *,
    resume: bool,
) -> tuple[Path, list[tuple[str, Path]]]:
    """:func:`_run` with the size limit on bytes received: passing it stops the run."""
    inner = CancelToken()
    unlink = cancel.on_cancel(inner.cancel) if cancel else (lambda: None)
    tracker = ProgressTracker(
        progress, len(plan.formats), limit=settings.max_filesize, on_exceed=inner.cancel
    )
    try:
        return _run(plan, work, settings, tracker, inner, resume=resume)
    except errors.Cancelled:
        if tracker.exceeded.is_set():
            raise _too_large(settings) from None
        raise
    finally:
        unlink()


def work_folder(plan: Plan, out_dir: Path) -> Path:
    """Where a resumable download of ``plan`` into ``out_dir`` keeps its work."""
    return out_dir / (plan.filename + PART_SUFFIX)


@contextlib.contextmanager
def _claimed(work: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold ``work`` for this process (an advisory lock on the folder itself), so two runs of
    the same download into the same folder can't write the same files. Held by another run:
    :class:`~mediadl.errors.DownloadBusy`, or with ``wait`` block until that run ends."""
    work.mkdir(exist_ok=True)
    fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise errors.DownloadBusy() from None
        yield
    finally:
        os.close(fd)


def _prepare(plan: Plan, work: Path) -> None:
    """Empty ``work`` when it holds another item's or format's work, and say whose it is."""
    identity = {
        "extractor": plan.info.extractor,
        "id": plan.info.id,
        "formats": [fmt.id for fmt in plan.formats],
        "ext": plan.ext,
    }
    state = work / _STATE
    try:
        same = json.loads(state.read_text(encoding="utf-8")) == identity
    except (OSError, ValueError):
        same = False
    if not same:
        for path in work.iterdir():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        state.write_text(json.dumps(identity), encoding="utf-8")


def _holds_bytes(work: Path) -> bool:
    """Whether a work folder holds anything fetched (worth keeping for the next run)."""
    try:
        return any(
            path.name != _STATE and path.is_file() and path.stat().st_size > 0
            for path in work.iterdir()
        )
    except OSError:  # gone, or unreadable: nothing to keep
        return False


def _run(
    plan: Plan,
    work: Path,
    settings: Settings,
    tracker: ProgressTracker,
    cancel: CancelToken,
    *,
    resume: bool,
) -> tuple[Path, list[tuple[str, Path]]]:
    """The finished file in ``work``, and the subtitle files (language, path) fetched.

    When the site's claims decide the mux and every part is a segmented stream, ffmpeg starts
    with the fetch and reads the parts as they arrive (:mod:`~mediadl.engine.streammux`);
    otherwise it runs once they are all there."""
    parts = [work / f"part{i}.{fmt.ext}" for i, fmt in enumerate(plan.formats)]
    growing = [Growing(path) for path in parts]
    items = [
        FetchItem(fmt, path, tracker.part(i), resume=resume, growing=growing[i])
        for i, (fmt, path) in enumerate(zip(plan.formats, parts, strict=True))
    ]
    state = _Work(work, parts)
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="fetch") as pool:
            job = pool.submit(fetch_formats, items, settings=settings, cancel=cancel)
            if plan.needs_ffmpeg:
                # on a thread of its own too: its request runs a loop, and a caller's may run
                plan = pool.submit(with_audio_claim, plan, settings, cancel).result()
                # a part to probe after the fetch: its probe process loads PyAV meanwhile
                state.prober = ProbeProcess() if unsure_parts(plan) else None
            state.cover = _cover(plan, work, settings)
            state.subtitles = _subtitles(plan, work, settings)
            state.streamed = _streamed(plan, state, growing, settings, tracker, cancel, resume)
            job.result()
        if cancel.cancelled:
            raise errors.Cancelled()
        return _finish(plan, state, settings, tracker, cancel, resume)
    finally:
        if state.streamed is not None:
            state.streamed.abort()  # nothing left to stop once it is done
        if state.prober is not None:
            state.prober.close()


@dataclass(slots=True)
class _Work:
    """What a run gathers on the way to its mux."""

    folder: Path
    parts: list[Path]
    cover: Path | None = None
    subtitles: list[tuple[str, Path]] = field(default_factory=list)
    prober: ProbeProcess | None = None
    streamed: StreamedMux | None = None


def _streamed(  # noqa: PLR0917 - _run's state, passed on
    plan: Plan,
    work: _Work,
    growing: list[Growing],
    settings: Settings,
    tracker: ProgressTracker,
    cancel: CancelToken,
    resume: bool,
) -> StreamedMux | None:
    """ffmpeg reading the parts while they are fetched, started; ``None`` when it can't."""
    if not streamable(plan) or (resume and _output(plan, work).exists()):
        return None
    streamed = StreamedMux(
        plan,
        growing,
        _muxing(plan, work),
        thumbnail=work.cover,
        subtitles=work.subtitles if plan.choice.embed_subtitles else (),
        ffmpeg=settings.ffmpeg,
        cancel=cancel,
        progress=lambda f: tracker.stage(Stage.MUX, f),
    )
    streamed.start()
    return streamed


def _output(plan: Plan, work: _Work) -> Path:
    return work.folder / f"output.{plan.ext}"


def _muxing(plan: Plan, work: _Work) -> Path:
    """Where ffmpeg writes; renamed to the output once it is done: never a half output."""
    return work.folder / f"muxing.{plan.ext}"


def _finish(  # noqa: PLR0917 - _run's state, passed on
    plan: Plan,
    work: _Work,
    settings: Settings,
    tracker: ProgressTracker,
    cancel: CancelToken,
    resume: bool,
) -> tuple[Path, list[tuple[str, Path]]]:
    """Mux the fetched parts into ``work``'s output (none when the one part is the file)."""
    if not plan.needs_ffmpeg:
        return work.parts[0], work.subtitles
    out, muxing = _output(plan, work), _muxing(plan, work)
    if resume and out.exists():  # muxed by an earlier run that stopped before publishing
        return out, work.subtitles
    if work.streamed is not None:
        work.streamed.fetched()
        try:
            work.streamed.wait()
        except errors.ProcessingFailed as failed:
            log.info("the mux on the site's claims failed (%s): every part is probed", failed)
        else:
            muxing.replace(out)
            return out, work.subtitles
    else:
        tracker.stage(Stage.MUX, 0.0)
    mux(
        plan,
        work.parts,
        muxing,
        thumbnail=work.cover,
        subtitles=work.subtitles if plan.choice.embed_subtitles else (),
        ffmpeg=settings.ffmpeg,
        cancel=cancel,
        progress=lambda f: tracker.stage(Stage.MUX, f),
        prober=work.prober,
        claims_failed=work.streamed is not None,
    )
    muxing.replace(out)
    return out, work.subtitles


def _subtitles(plan: Plan, work: Path, settings: Settings) -> list[tuple[str, Path]]:
    choice = plan.choice
    if not (choice.write_subtitles or choice.embed_subtitles):
        return []
    tracks = pick_tracks(plan.info, choice.subtitles)
    return [(track.lang, path) for track, path in fetch_subtitles(tracks, work, settings)]


def _cover(plan: Plan, work: Path, settings: Settings) -> Path | None:
    if not (plan.choice.metadata and plan.info.thumbnail and plan.ext in THUMBNAIL_EXTS):
        return None
    return fetch_cover(plan.info.thumbnail, work, settings)


def publish(source: Path, out_dir: Path, filename: str, *, replace: bool = False) -> Path:
    """Move ``source`` to ``out_dir/filename`` (or ``name (2).ext`` …) without overwriting;
    with ``replace``, onto ``out_dir/filename`` whatever is there."""
    if replace:
        target = out_dir / filename
        source.replace(target)
        return target
    for name in numbered(filename):
        target = out_dir / name
        try:
            os.link(source, target)
        except FileExistsError:
            continue
        except OSError:
            if target.exists():
                continue
            source.replace(target)
            return target
        with contextlib.suppress(FileNotFoundError):
            source.unlink()
        return target
    raise errors.ProcessingFailed("Too many files with this name in the output folder.")


def _check_size(plan: Plan, settings: Settings) -> None:
    if (
        settings.max_filesize
        and plan.estimated_size
        and plan.estimated_size > settings.max_filesize
    ):
        raise _too_large(settings)


def _too_large(settings: Settings) -> errors.ContentTooLarge:
    limit = settings.max_filesize or 0
    return errors.ContentTooLarge(
        f"This file is larger than this server allows ({limit / 1e6:.0f} MB).", limit=limit
    )
