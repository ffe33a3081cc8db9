"""Download one or more links — a bar per item; Ctrl-C cancels cleanly at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from mediadl import errors
from mediadl.cli.common import (
    COOKIES_FROM_BROWSER_OPTION,
    COOKIES_OPTION,
    EXIT_CANCELLED,
    EXIT_FAILED,
    PRIVATE_OPTION,
    PROXY_OPTION,
    QUIET_OPTION,
    VERBOSE_OPTION,
    error_text,
    link_engine,
    stderr,
    unexpected,
)
from mediadl.cli.logs import log_to, verbosity_level
from mediadl.cli.notes import (
    conflicts,
    entry_info,
    file_duration,
    note_text,
    parse_section,
    plan_notes,
    public_url,
)
from mediadl.cli.progress_view import ItemStats, ProgressView
from mediadl.cli.render import saved_text
from mediadl.engine import Engine
from mediadl.models import (
    AUDIO_FORMATS,
    CONTAINERS,
    QUALITY_LADDER,
    CancelToken,
    Choice,
    MediaInfo,
)

__all__ = ["command"]


@dataclass
class ItemResult:
    url: str
    path: Path | None = None
    title: str | None = None
    duration: float | None = None
    error: errors.MediadlError | None = None
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
            "error": {"code": self.error.code, "message": self.error.message}
            if self.error
            else None,
        }


def command(  # noqa: PLR0917 - one parameter per flag is how typer declares them
    ctx: typer.Context,
    urls: list[str] = typer.Argument(..., metavar="URL...", help="One or more shareable links."),
    quality: str = typer.Option(
        "best",
        "-q",
        "--quality",
        metavar="HEIGHT",
        help=f"best or a height: {', '.join(map(str, QUALITY_LADDER))} (the nearest below, "
        "else above).",
    ),
    audio: str | None = typer.Option(
        None, "-a", "--audio", metavar="FORMAT", help=f"Sound only: {', '.join(AUDIO_FORMATS)}."
    ),
    container: str = typer.Option(
        "mp4",
        "--container",
        metavar="EXT",
        help=f"{', '.join(CONTAINERS)} (webm re-encodes what isn't VP9/AV1/Opus already).",
    ),
    mute: bool = typer.Option(False, "--mute", help="Video without sound."),
    output: Path = typer.Option(
        Path(), "-o", "--output", metavar="DIR", help="Folder to save into.", file_okay=False
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        metavar="TEMPLATE",
        help="File name template: {title}, {id}, {uploader}, {site}, {height}. "
        "The extension is added.",
    ),
    playlist: bool = typer.Option(
        True, "--playlist/--no-playlist", help="Download every item of a playlist or post."
    ),
    selector: str | None = typer.Option(
        None,
        "-f",
        "--format",
        metavar="SELECTOR",
        help="A raw yt-dlp format selector (wins over -q/-a).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per item."),
    no_metadata: bool = typer.Option(
        False, "--no-metadata", help="Don't write title/artist tags or the cover."
    ),
    write_subs: bool = typer.Option(
        False, "--write-subs", help="Save the subtitles beside the file (NAME.LANG.vtt)."
    ),
    embed_subs: bool = typer.Option(
        False, "--embed-subs", help="Put the subtitles into the file (mp4, mkv, webm)."
    ),
    sub_langs: str = typer.Option(
        "",
        "--sub-langs",
        metavar="LANGS",
        help="Subtitle languages, comma-separated regular expressions (en,tr or en.* or all). "
        "Default: English, else the first offered.",
    ),
    section: str | None = typer.Option(
        None,
        "--download-sections",
        metavar="*START-END",
        help="Keep only this time range, e.g. *1:00-2:30 or *90- (to the end); cut without "
        "re-encoding, so the video starts at the keyframe at or before START.",
    ),
    allow_private: bool | None = PRIVATE_OPTION,
    proxy: str | None = PROXY_OPTION,
    cookies: Path | None = COOKIES_OPTION,
    cookies_from_browser: str | None = COOKIES_FROM_BROWSER_OPTION,
    verbose: int = VERBOSE_OPTION,
    quiet: bool = QUIET_OPTION,
) -> None:
    run = GetRun(
        engine=link_engine(
            allow_private=allow_private,
            proxy=proxy,
            cookies=cookies,
            cookies_from_browser=cookies_from_browser,
        ),
        choice=_choice(
            quality=quality,
            audio=audio,
            container=container,
            mute=mute,
            selector=selector,
            name=name,
            metadata=not no_metadata,
            section=section,
            subtitles=(write_subs, embed_subs, sub_langs),
        ),
        playlist=playlist,
        output=output,
        view=ProgressView(stderr, enabled=stderr.is_terminal and not quiet, quiet=quiet),
        as_json=as_json,
    )
    if not quiet:
        for note in conflicts(_given(ctx, ("audio", "mute", "quality", "container", "selector"))):
            stderr.print(note_text(note), highlight=False, soft_wrap=True)
    finished = threading.Event()

    def work() -> None:
        try:
            run.run_all(urls)
        finally:
            finished.set()

    # Wait on an Event, not Thread.join: a join interrupted by Ctrl-C can report the thread
    # finished while it is still cleaning up.
    with run.view, log_to(run.view.line, level=verbosity_level(verbose, quiet)):
        threading.Thread(target=work, name="mediadl-get", daemon=True).start()
        try:
            while not finished.wait(0.1):
                pass
        except KeyboardInterrupt:
            run.cancel.cancel()
            finished.wait()
    if run.cancel.cancelled:
        stderr.print("cancelled", style="yellow")
        raise typer.Exit(EXIT_CANCELLED)
    if not run.results or any(r.error for r in run.results):
        raise typer.Exit(EXIT_FAILED)


def _choice(
    *,
    quality: str,
    audio: str | None,
    container: str,
    mute: bool,
    selector: str | None,
    name: str | None,
    metadata: bool,
    section: str | None = None,
    subtitles: tuple[bool, bool, str] = (False, False, ""),
) -> Choice:
    q = quality.lower().removesuffix("p")
    if q != "best" and not (q.isdigit() and int(q) in QUALITY_LADDER):
        raise typer.BadParameter(
            f"use best or one of {', '.join(map(str, QUALITY_LADDER))}", param_hint="-q"
        )
    if audio is not None and audio not in AUDIO_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(AUDIO_FORMATS)}", param_hint="-a")
    if container not in CONTAINERS:
        raise typer.BadParameter(f"use one of {', '.join(CONTAINERS)}", param_hint="--container")
    try:
        seconds = parse_section(section) if section is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--download-sections") from None
    write_subs, embed_subs, sub_langs = subtitles
    return Choice(
        subtitles=tuple(lang.strip() for lang in sub_langs.split(",") if lang.strip()),
        write_subtitles=write_subs,
        embed_subtitles=embed_subs,
        section=seconds,
        quality="best" if q == "best" else int(q),
        container=container,
        audio=audio,
        mute=mute,
        format_selector=selector,
        metadata=metadata,
        name_template=name,
    )


@dataclass
class GetRun:
    """One ``mediadl get``: the choice, where to save, the bars, and what came of each item."""

    engine: Engine
    choice: Choice
    playlist: bool
    output: Path
    view: ProgressView
    as_json: bool
    cancel: CancelToken = field(default_factory=CancelToken)
    results: list[ItemResult] = field(default_factory=list)

    def run_all(self, urls: list[str]) -> None:
        for url in urls:
            for result in self._run_url(url):
                self.results.append(result)
                _report(result, self.as_json, self.view)
                if self.cancel.cancelled:
                    return

    def _run_url(self, url: str) -> Iterator[ItemResult]:
        try:
            with self.view.status(f"reading {url}"):
                info = self.engine.resolve(url, playlist=self.playlist)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an item's error
            yield ItemResult(url, error=_as_error(exc))
            return
        if not info.is_playlist:
            yield self._download(info, url)
            return
        for entry in info.entries:
            if self.cancel.cancelled:
                return
            try:
                with self.view.status(f"reading {entry.title or public_url(entry.url)}"):
                    item = entry_info(entry, self.engine.resolve_entry(entry))
            except Exception as exc:  # noqa: BLE001 - one bad item doesn't stop the others
                yield ItemResult(entry.url, title=entry.title, error=_as_error(exc))
                continue
            yield self._download(item, entry.url)

    def _download(self, info: MediaInfo, url: str) -> ItemResult:
        whole = info.duration if self.choice.section is None else None  # else: the file's
        result = ItemResult(url, title=info.title, duration=whole)
        try:
            plan = self.engine.plan(info, self.choice)
            if not self.view.quiet:
                for note in plan_notes(plan):
                    self.view.line(note_text(note))
            with self.view.task(plan.filename) as (hook, stats):
                result.path = self.engine.download(
                    plan, self.output, progress=hook, cancel=self.cancel
                )
            result.stats = stats
        except Exception as exc:  # noqa: BLE001 - reported as the item's error
            result.error = _as_error(exc)
        return result


def _as_error(exc: BaseException) -> errors.MediadlError:
    return exc if isinstance(exc, errors.MediadlError) else unexpected(exc)


def _report(result: ItemResult, as_json: bool, view: ProgressView) -> None:
    """The item's outcome: a JSON line, or one line above the bars (an error or ``saved``)."""
    if as_json:
        view.json_line(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    if result.error is not None:
        if not isinstance(result.error, errors.Cancelled):
            view.line(error_text(result.error, about=result.title or result.url))
        return
    if not view.quiet:
        view.line(saved_text(result.path, result.stats))


def _given(ctx: typer.Context, names: tuple[str, ...]) -> dict[str, object]:
    """The flags among ``names`` typed on the command line or set in the config file."""
    chosen = ("COMMANDLINE", "DEFAULT_MAP")
    return {
        name: ctx.params.get(name)
        for name in names
        if getattr(ctx.get_parameter_source(name), "name", None) in chosen
    }
