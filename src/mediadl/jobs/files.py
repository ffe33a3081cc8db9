"""The downloads folder: one folder per job for its files, a hidden one for work in progress.

    download_dir/
      <job id>/<title>.mp4                published files (what a media server reads)
      .mediadl-work/<job id>/<item>/      parts, journals, ffmpeg's output: never published half

Work stays in the same file system as the published files, so publishing is a hard link (or a
rename) that never overwrites; a marker written first makes it happen once even when the
process dies between the link and the record of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from mediadl import errors
from mediadl.engine.filenames import numbered
from mediadl.settings import Settings

__all__ = [
    "WORK_FOLDER",
    "check_room",
    "download_dir",
    "folder_size",
    "job_dir",
    "locked",
    "publish_once",
    "remove_job_files",
    "work_dir",
]

WORK_FOLDER = ".mediadl-work"
_MARKER = "published"


def download_dir(settings: Settings) -> Path:
    return settings.download_dir or settings.data_dir / "downloads"


def job_dir(settings: Settings, job_id: str) -> Path:
    return download_dir(settings) / job_id


def work_dir(settings: Settings, job_id: str, item: int | None = None) -> Path:
    base = download_dir(settings) / WORK_FOLDER / job_id
    return base if item is None else base / str(item)


def publish_once(source: Path, folder: Path, filename: str, work: Path) -> Path:
    """Publish ``source`` (inside ``work``) into ``folder`` under ``filename`` — or ``name (2)``
    when taken — exactly once: the name is recorded in ``work`` before the link is made, and a
    second call finds the link already there (same file) and returns it."""
    marker = work / _MARKER
    folder.mkdir(parents=True, exist_ok=True)
    if marker.exists():
        done = folder / marker.read_text()
        with contextlib.suppress(FileNotFoundError):
            if done.samefile(source):
                return done
    for name in numbered(filename):
        target = folder / name
        if target.exists():
            continue
        marker.write_text(name)
        try:
            os.link(source, target)
        except FileExistsError:
            continue
        return target
    raise FileExistsError(f"too many files named {filename!r}")


@contextlib.contextmanager
def locked(work: Path) -> Iterator[None]:
    """Hold ``work`` (an item's work folder) for this process: the lock the engine's
    ``produce`` takes on it too, so one run at a time makes or publishes the item."""
    fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_room(settings: Settings, size: int, made: Path | None = None) -> None:
    """Refuse a file of ``size`` bytes past ``max_filesize``, or a downloads folder at or past
    its quota (with ``made`` already inside it: past it once ``made`` is counted)."""
    limit = settings.max_filesize
    if limit is not None and size > limit:
        raise errors.ContentTooLarge(
            f"This file is larger than this server allows ({limit / 1e6:.0f} MB).", limit=limit
        )
    quota = settings.download_quota
    if quota is None:
        return
    used = folder_size(download_dir(settings))  # counts ``made``: it is in the work folder
    if used > quota or (made is None and used >= quota):
        raise errors.JobsQuota()


def remove_job_files(settings: Settings, job_id: str) -> None:
    """The job's published files and its work folder."""
    shutil.rmtree(job_dir(settings, job_id), ignore_errors=True)
    shutil.rmtree(work_dir(settings, job_id), ignore_errors=True)


def folder_size(folder: Path) -> int:
    """Bytes the files under ``folder`` take (each hard-linked file once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                st = Path(root, name).stat()
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_size
    return total
