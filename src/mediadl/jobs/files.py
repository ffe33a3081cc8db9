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
import os
import shutil
from pathlib import Path

from mediadl.engine.filenames import numbered
from mediadl.settings import Settings

__all__ = [
    "WORK_FOLDER",
    "download_dir",
    "folder_size",
    "job_dir",
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
