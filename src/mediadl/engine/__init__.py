"""The pipeline: resolve → plan → fetch → mux. Faces (service, CLI, jobs) call only this.

The fetch and mux half (aiohttp, the fetcher, ffmpeg, PyAV) is imported when a download starts,
not with the engine: a command's first request to the site (the page) doesn't wait for it, and a
command that only reads a page (``info``) never pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from yt_dlp.extractor.common import InfoExtractor

from mediadl import errors
from mediadl.engine.extract import normalize_url, resolve, select_formats
from mediadl.engine.lookup import extractor_for
from mediadl.engine.planner import available_heights, ladder_steps, pick_height, plan
from mediadl.engine.ytdl import warm_up
from mediadl.models import CancelToken, Choice, Entry, Format, MediaInfo, Plan, ProgressHook
from mediadl.settings import Settings

__all__ = [
    "Engine",
    "available_heights",
    "download",
    "extractor_for",
    "ladder_steps",
    "normalize_url",
    "pick_height",
    "plan",
    "resolve",
    "warm_up",
]


class Engine:
    """The pipeline bound to one ``Settings`` and one set of extra site extractors."""

    def __init__(self, settings: Settings, extractors: Sequence[type[InfoExtractor]] = ()) -> None:
        self.settings = settings
        self.extractors = tuple(extractors)

    def warm_up(self) -> None:
        warm_up(self.settings)

    def resolve(self, url: str, *, playlist: bool = True) -> MediaInfo:
        return resolve(url, self.settings, extractors=self.extractors, playlist=playlist)

    def resolve_entry(self, entry: Entry) -> MediaInfo:
        """The full info of a playlist item (already there for multi-item posts)."""
        return entry.info or self.resolve(entry.url, playlist=False)

    def plan(self, info: MediaInfo, choice: Choice) -> Plan:
        return plan(info, choice, select=self._select)

    def download(
        self,
        plan: Plan,
        out_dir: Path,
        *,
        progress: ProgressHook | None = None,
        cancel: CancelToken | None = None,
        resume: bool = False,
        replace: bool = False,
    ) -> Path:
        """``plan``'s file in ``out_dir`` (see :func:`mediadl.engine.download.download` for
        ``resume`` and ``replace``); a folder that refuses the write (read-only, full) is an
        ``output.*`` error naming the folder, not an OS error."""
        from mediadl.engine.download import download

        try:
            return download(
                plan,
                out_dir,
                settings=self.settings,
                progress=progress,
                cancel=cancel,
                resume=resume,
                replace=replace,
            )
        except errors.OutputError as err:
            raise type(err)(f"{err.message} Folder: {out_dir.absolute()}.", **err.context) from err
        except OSError as exc:
            output = errors.output_error(exc, out_dir.absolute())
            if output is None:
                raise
            raise output from exc

    def _select(self, info: MediaInfo, selector: str) -> tuple[Format, ...]:
        return select_formats(info, selector, self.settings)


def __getattr__(name: str) -> Any:
    """``download``, imported on first use (see above)."""
    if name == "download":
        from mediadl.engine.download import download

        return download
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
