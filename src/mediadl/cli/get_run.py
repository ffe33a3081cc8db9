"""One ``mediadl get`` at work: read each link, pick its items, skip what is there, download.

Downloads are resumable: the engine works in ``<name>.part/`` beside the target and keeps it when
the run stops, so the next run of the same link goes on from there. A target already on disk is
skipped ("already downloaded", as yt-dlp says) unless overwriting was asked for; the download
archive skips items before their media is fetched.

Reading a page can't be interrupted from outside yt-dlp, and leaves nothing on disk: Ctrl-C then
ends the command at once (``reading`` tells the command so), while a download is always let
finish its cancellation, which keeps what it fetched.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text

from mediadl import errors
from mediadl.cli.archive import Archive, key_of
from mediadl.cli.common import error_text, unexpected
from mediadl.cli.notes import entry_info, file_duration, note_text, plan_notes, public_url
from mediadl.cli.progress_view import ItemStats, ProgressView
from mediadl.cli.render import plain, saved_text
from mediadl.engine import Engine
from mediadl.engine.filenames import NameTemplate, name_fields
from mediadl.engine.preload import AHEAD, FetcherLoad
from mediadl.engine.scheme import with_scheme
from mediadl.models import CancelToken, Choice, Entry, MediaInfo, Plan

__all__ = ["GetRun", "ItemResult", "pick_items"]

T = TypeVar("T")


@dataclass
class ItemResult:
    url: str
    path: Path | None = None
    title: str | None = None
    duration: float | None = None
    error: errors.MediadlError | None = None
    skipped: str | None = None
    """Why nothing was downloaded though nothing failed: ``exists`` or ``archive``."""
    kept: Path | None = None
    """The work folder a failed or cancelled download left for the next run."""
    stats: ItemStats | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` line: the link as given (no yt-dlp hand-over data), the duration of
        the page or else of the saved file."""
        duration = self.duration
        if duration is None and self.path is not None:
            duration = file_duration(self.path)
        return {
            "url": public_url(self.url),
            "path": str(self.path) if self.path else None,
            "title": self.title,
            "duration": duration,
            "skipped": self.skipped,
            "error": {"code": self.error.code, "message": self.error.message}
            if self.error
            else None,
        }


@dataclass
class GetRun:
    """The choice, where to save, how to name, what to skip, and what came of each item."""

    engine: Engine
    choice: Choice
    playlist: bool
    output: Path
    view: ProgressView
    as_json: bool
    template: NameTemplate | None = None
    overwrite: bool = False
    archive: Archive | None = None
    items: str | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    results: list[ItemResult] = field(default_factory=list)
    reading: bool = False
    """A page is being read (nothing of this run is being written)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    fetcher: FetcherLoad | None = None
    """The fetcher, imported while the first page is on its way (:mod:`mediadl.engine.preload`)."""

    def run_all(self, urls: list[str]) -> None:
        AHEAD.set()  # a command-line run forks no workers: it may work ahead on threads
        self.fetcher = FetcherLoad()
        for url in urls:
            for result in self._run_url(url):
                self.results.append(result)
                _report(result, self.as_json, self.view)
                if self.cancel.cancelled:
                    return

    def interrupt(self) -> bool:
        """Ctrl-C: cancel; true when the command may end at once (only a page was being read)."""
        with self.lock:
            self.cancel.cancel()
            return self.reading

    def _read(self, what: str, work: Callable[[], T]) -> T:
        with self.lock:
            if self.cancel.cancelled:
                raise errors.Cancelled()
            self.reading = True
        try:
            with self.view.status(f"reading {what}"):
                return work()
        finally:
            with self.lock:
                self.reading = False
            if self.cancel.cancelled:
                raise errors.Cancelled()

    def _run_url(self, url: str) -> Iterator[ItemResult]:
        try:
            info = self._read(url, lambda: self._resolve(url))
        except Exception as exc:  # noqa: BLE001 - every failure becomes an item's error
            yield ItemResult(url, error=_as_error(exc))
            return
        if not info.is_playlist:
            yield self._item(info, url, None)
            return
        try:
            chosen = pick_items(len(info.entries), self.items)
        except ValueError as exc:
            yield ItemResult(url, error=errors.LinkInvalid(f"-I/--playlist-items: {exc}."))
            return
        for index in chosen:
            if self.cancel.cancelled:
                return
            yield self._entry(info.entries[index], index + 1)

    def _resolve(self, url: str) -> MediaInfo:
        return self.engine.resolve(with_scheme(url, self.engine.settings), playlist=self.playlist)

    def _entry(self, entry: Entry, index: int) -> ItemResult:
        known = entry.info
        if self.archive is not None and known is not None and key_of(known) in self.archive:
            return ItemResult(entry.url, title=known.title, skipped="archive")
        try:
            item = self._read(
                entry.title or public_url(entry.url),
                lambda: entry_info(entry, self.engine.resolve_entry(entry)),
            )
        except Exception as exc:  # noqa: BLE001 - one bad item doesn't stop the others
            return ItemResult(entry.url, title=entry.title, error=_as_error(exc))
        return self._item(item, entry.url, index)

    def _item(self, info: MediaInfo, url: str, index: int | None) -> ItemResult:
        whole = info.duration if self.choice.section is None else None  # else: the file's
        result = ItemResult(url, title=info.title, duration=whole)
        key = key_of(info)
        if self.archive is not None and key in self.archive:
            result.skipped = "archive"
            return result
        try:
            plan, folder = self._plan(info, index)
            target = folder / plan.filename
            if target.exists() and not self.overwrite:
                result.path, result.skipped = target, "exists"
            else:
                self._notes(plan)
                result.path = self._download(plan, folder, result)
            if self.archive is not None:
                self.archive.add(key)
        except Exception as exc:  # noqa: BLE001 - reported as the item's error
            result.error = _as_error(exc)
        return result

    def _plan(self, info: MediaInfo, index: int | None) -> tuple[Plan, Path]:
        plan = self.engine.plan(info, _choice_for(info, self.choice))
        if self.template is None:
            return plan, self.output
        height = plan.video.source.height if plan.video else None
        fields = name_fields(info, height=height, ext=plan.ext, index=index)
        folders, name = self.template.render(fields, plan.ext)
        return dataclasses.replace(plan, filename=name), self.output.joinpath(*folders)

    def _notes(self, plan: Plan) -> None:
        if not self.view.quiet:
            for note in plan_notes(plan):
                self.view.line(note_text(note))

    def _download(self, plan: Plan, folder: Path, result: ItemResult) -> Path:
        if self.fetcher is not None:
            self.fetcher.settle()  # the download imports it now, never beside the load
        try:
            with self.view.task(plan.filename) as (hook, stats):
                path = self.engine.download(
                    plan,
                    folder,
                    progress=hook,
                    cancel=self.cancel,
                    resume=True,
                    replace=self.overwrite,
                )
            result.stats = stats
            return path
        except BaseException as exc:
            from mediadl.engine.download import work_folder  # loaded by the download already

            work = work_folder(plan, folder)
            if work.is_dir() and not isinstance(exc, errors.DownloadBusy):  # not ours
                result.kept = work
            raise


def _choice_for(info: MediaInfo, choice: Choice) -> Choice:
    """A link with sound only and no ``-a``: its best sound, in its own container."""
    sound_only = bool(info.formats) and not any(fmt.has_video for fmt in info.formats)
    if sound_only and choice.audio is None and not choice.format_selector:
        return dataclasses.replace(choice, audio="best")
    return choice


def pick_items(count: int, spec: str | None) -> list[int]:
    """The 0-based indices ``-I`` names, in its order, each once (yt-dlp's syntax: ``1,3-5,-1``,
    ``2:8:2``; 1-based, ends included, negative from the end). ``ValueError`` for bad syntax."""
    if not spec:
        return list(range(count))
    from yt_dlp.utils import PlaylistEntries

    picked: list[int] = []
    for item in PlaylistEntries.parse_playlist_items(spec):
        if isinstance(item, int):
            numbers = [item if item > 0 else count + item + 1]
        else:
            numbers = list(_span(count, item))
        picked += [n - 1 for n in numbers if 1 <= n <= count and n - 1 not in picked]
    return picked


def _span(count: int, span: slice) -> range:
    step = int(span.step or 1)

    def place(value: float | None, default: int) -> int:
        if value is None or value == float("inf"):
            return default
        number = int(value)
        return number if number > 0 else count + number + 1

    start = place(span.start, 1 if step > 0 else count)
    stop = place(span.stop, count if step > 0 else 1)
    return range(start, stop + (1 if step > 0 else -1), step)


def _as_error(exc: BaseException) -> errors.MediadlError:
    return exc if isinstance(exc, errors.MediadlError) else unexpected(exc)


def _report(result: ItemResult, as_json: bool, view: ProgressView) -> None:
    """The item's outcome: a JSON line, or a line above the bars (an error, ``saved`` or why
    nothing was downloaded)."""
    if as_json:
        view.json_line(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    if result.error is not None:
        if not isinstance(result.error, errors.Cancelled):
            view.line(error_text(result.error, about=_name(result)))
        if result.kept is not None:
            view.line(Text(f"kept {result.kept}: the same command goes on from there", style="dim"))
        return
    if view.quiet:
        return
    if result.skipped == "archive":
        view.line(Text.assemble(("in the download archive", "dim"), " ", _name(result)))
    elif result.skipped == "exists":
        view.line(Text.assemble(("already downloaded", "dim"), " ", str(result.path)))
    else:
        view.line(saved_text(result.path, result.stats))


def _name(result: ItemResult) -> str:
    return plain(result.title or public_url(result.url))
