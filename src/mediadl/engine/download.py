"""Carrying out a plan: fetch the parts, mux them, publish the file — or leave nothing behind.

Each download works in its own hidden directory inside the output folder (same filesystem), and
the finished file appears under its real name in one atomic step that never overwrites.
:func:`produce` is the resumable half for callers that keep their own work directory (jobs):
it makes the finished file inside it, keeping whatever complete parts and journaled ranges an
interrupted run left there, and leaves publishing to the caller.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mediadl import errors
from mediadl.engine.fetch import FetchItem, fetch_formats
from mediadl.engine.mux import THUMBNAIL_EXTS, mux
from mediadl.engine.probe import preload
from mediadl.engine.progress import ProgressTracker
from mediadl.engine.thumbnail import fetch_cover
from mediadl.models import CancelToken, Plan, Progress, ProgressHook, Stage
from mediadl.settings import Settings

__all__ = ["WORK_PREFIX", "download", "produce", "publish"]

WORK_PREFIX = ".mediadl-"


def download(
    plan: Plan,
    out_dir: Path,
    *,
    settings: Settings,
    progress: ProgressHook | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Produce ``plan``'s file in ``out_dir`` and return its path."""
    _check_size(plan, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=out_dir))
    try:
        result = _make(plan, work, settings, progress, cancel, resume=False)
        final = publish(result, out_dir, plan.filename)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if progress:
        progress(
            Progress(stage=Stage.DONE, downloaded=final.stat().st_size, total=final.stat().st_size)
        )
    return final


def produce(
    plan: Plan,
    work: Path,
    *,
    settings: Settings,
    progress: ProgressHook | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Make ``plan``'s file inside ``work`` and return its path there, resuming an earlier run.

    Complete parts are kept, a progressive part goes on from its journaled ranges, an
    unfinished mux is done again; the finished file is ``work/output.<ext>`` (or the single
    part). The caller publishes it and removes ``work``; on an error ``work`` stays as it is.
    """
    _check_size(plan, settings)
    work.mkdir(parents=True, exist_ok=True)
    return _make(plan, work, settings, progress, cancel, resume=True)


def _make(
    plan: Plan,
    work: Path,
    settings: Settings,
    progress: ProgressHook | None,
    cancel: CancelToken | None,
    *,
    resume: bool,
) -> Path:
    """``_run`` with the size limit on bytes received: passing it stops the run."""
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


def _run(
    plan: Plan,
    work: Path,
    settings: Settings,
    tracker: ProgressTracker,
    cancel: CancelToken,
    *,
    resume: bool,
) -> Path:
    parts = [work / f"part{i}.{fmt.ext}" for i, fmt in enumerate(plan.formats)]
    out = work / f"output.{plan.ext}"
    if resume and plan.needs_ffmpeg and out.exists():
        return out
    items = [
        FetchItem(fmt, path, tracker.part(i), resume=resume)
        for i, (fmt, path) in enumerate(zip(plan.formats, parts, strict=True))
        if not (resume and path.exists())
    ]
    if plan.needs_ffmpeg:
        preload()  # the probe before the mux
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetch") as pool:
        job = pool.submit(fetch_formats, items, settings=settings, cancel=cancel)
        cover = _cover(plan, work, settings)
        job.result()
    if cancel.cancelled:
        raise errors.Cancelled()
    if not plan.needs_ffmpeg:
        return parts[0]
    muxing = work / f"muxing.{plan.ext}"  # renamed once ffmpeg is done: never a half output
    tracker.stage(Stage.MUX, 0.0)
    mux(
        plan,
        parts,
        muxing,
        thumbnail=cover,
        ffmpeg=settings.ffmpeg,
        cancel=cancel,
        progress=lambda f: tracker.stage(Stage.MUX, f),
    )
    muxing.replace(out)
    return out


def _cover(plan: Plan, work: Path, settings: Settings) -> Path | None:
    if not (plan.choice.metadata and plan.info.thumbnail and plan.ext in THUMBNAIL_EXTS):
        return None
    return fetch_cover(plan.info.thumbnail, work, settings)


def publish(source: Path, out_dir: Path, filename: str) -> Path:
    """Move ``source`` to ``out_dir/filename`` (or ``name (2).ext`` …) without overwriting."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    for n in range(1, 1000):
        name = filename if n == 1 else f"{stem} ({n}){dot}{ext}"
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
