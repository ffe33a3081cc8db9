"""Carrying out a plan: fetch the parts, mux them, publish the file — or leave nothing behind.

Each download works in its own hidden directory inside the output folder (same filesystem), and
the finished file appears under its real name in one atomic step that never overwrites.
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
from mediadl.engine.subtitles import fetch_subtitles, pick_tracks
from mediadl.engine.thumbnail import fetch_cover
from mediadl.models import CancelToken, Plan, Progress, ProgressHook, Stage
from mediadl.settings import Settings

__all__ = ["WORK_PREFIX", "download", "publish"]

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
    inner = CancelToken()
    unlink = cancel.on_cancel(inner.cancel) if cancel else (lambda: None)
    tracker = ProgressTracker(
        progress, len(plan.formats), limit=settings.max_filesize, on_exceed=inner.cancel
    )
    try:
        result, subtitles = _run(plan, work, settings, tracker, inner)
        final = publish(result, out_dir, plan.filename)
        if plan.choice.write_subtitles:
            for lang, path in subtitles:
                publish(path, out_dir, f"{final.stem}.{lang}{path.suffix}")
    except errors.Cancelled:
        if tracker.exceeded.is_set():
            raise _too_large(settings) from None
        raise
    finally:
        unlink()
        shutil.rmtree(work, ignore_errors=True)
    if progress:
        progress(
            Progress(stage=Stage.DONE, downloaded=final.stat().st_size, total=final.stat().st_size)
        )
    return final


def _run(
    plan: Plan, work: Path, settings: Settings, tracker: ProgressTracker, cancel: CancelToken
) -> tuple[Path, list[tuple[str, Path]]]:
    """The finished file in ``work``, and the subtitle files (language, path) fetched."""
    parts = [work / f"part{i}.{fmt.ext}" for i, fmt in enumerate(plan.formats)]
    items = [
        FetchItem(fmt, path, tracker.part(i))
        for i, (fmt, path) in enumerate(zip(plan.formats, parts, strict=True))
    ]
    if plan.needs_ffmpeg:
        preload()  # the probe before the mux
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetch") as pool:
        job = pool.submit(fetch_formats, items, settings=settings, cancel=cancel)
        cover = _cover(plan, work, settings)
        subtitles = _subtitles(plan, work, settings)
        job.result()
    if cancel.cancelled:
        raise errors.Cancelled()
    if not plan.needs_ffmpeg:
        return parts[0], subtitles
    out = work / f"output.{plan.ext}"
    tracker.stage(Stage.MUX, 0.0)
    mux(
        plan,
        parts,
        out,
        thumbnail=cover,
        subtitles=subtitles if plan.choice.embed_subtitles else (),
        ffmpeg=settings.ffmpeg,
        cancel=cancel,
        progress=lambda f: tracker.stage(Stage.MUX, f),
    )
    return out, subtitles


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
