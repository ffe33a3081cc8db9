"""Download one or more links — a bar per item; Ctrl-C stops at once, a re-run goes on."""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from mediadl import errors
from mediadl.cli.archive import Archive
from mediadl.cli.common import (
    COOKIES_FROM_BROWSER_OPTION,
    COOKIES_OPTION,
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_SETTINGS,
    PRIVATE_OPTION,
    PROXY_OPTION,
    QUIET_OPTION,
    VERBOSE_OPTION,
    link_engine,
    print_error,
    stderr,
)
from mediadl.cli.get_run import GetRun
from mediadl.cli.logs import log_to, verbosity_level
from mediadl.cli.notes import conflicts, note_text, parse_section
from mediadl.cli.progress_view import ProgressView
from mediadl.engine.filenames import TEMPLATE_FIELDS, NameTemplate, TemplateError
from mediadl.models import AUDIO_FORMATS, CONTAINERS, QUALITY_LADDER, Choice

_NAME_HELP = (
    "File name template: "
    + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
    + "; / makes sub-folders inside -o. The extension is added."
)

__all__ = ["command"]


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
    name: str | None = typer.Option(None, "--name", metavar="TEMPLATE", help=_NAME_HELP),
    playlist: bool = typer.Option(
        True, "--playlist/--no-playlist", help="Download every item of a playlist or post."
    ),
    items: str | None = typer.Option(
        None,
        "-I",
        "--playlist-items",
        metavar="ITEMS",
        help="Which items of a playlist: 1,3-5,-1 (from the end), 2:8:2 (a step).",
    ),
    overwrite: bool = typer.Option(
        False,
        "--force-overwrites/--no-overwrites",
        help="Download again and replace a file already saved under the same name. "
        "Default: skip it (already downloaded).",
    ),
    archive: Path | None = typer.Option(
        None,
        "--download-archive",
        metavar="FILE",
        dir_okay=False,
        help="Skip the items listed in FILE and add each one downloaded (yt-dlp's format).",
    ),
    limit_rate: str | None = typer.Option(
        None, "-r", "--limit-rate", metavar="RATE", help="Most bytes a second: 500K, 4.2M."
    ),
    connections: int | None = typer.Option(
        None,
        "-N",
        "--connections",
        metavar="N",
        min=1,
        max=64,
        help="Most connections one download opens (default: MEDIADL_FETCH_CONNECTIONS, 16); "
        "never more than MEDIADL_HOST_CONNECTIONS (16) to one host.",
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
    template = _template(name)
    run = GetRun(
        engine=link_engine(
            allow_private=allow_private,
            proxy=proxy,
            cookies=cookies,
            cookies_from_browser=cookies_from_browser,
            fetch_rate_limit=_rate(limit_rate),
            fetch_connections=connections,
        ),
        choice=_choice(
            quality=quality,
            audio=audio,
            container=container,
            mute=mute,
            selector=selector,
            metadata=not no_metadata,
            section=section,
            subtitles=(write_subs, embed_subs, sub_langs),
        ),
        playlist=playlist,
        output=output,
        view=ProgressView(stderr, enabled=stderr.is_terminal and not quiet, quiet=quiet),
        as_json=as_json,
        template=template,
        overwrite=overwrite,
        archive=_archive(archive),
        items=items,
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
            if not run.interrupt():  # a download: let it stop cleanly, keeping what it has
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
    )


def _template(text: str | None) -> NameTemplate | None:
    """``--name`` checked before anything is read: a bad one ends the command (status 2)."""
    if text is None:
        return None
    try:
        return NameTemplate.parse(text)
    except TemplateError as exc:
        print_error(errors.ConfigTemplate(str(exc)))
        raise typer.Exit(EXIT_SETTINGS) from None


def _rate(text: str | None) -> int | None:
    if text is None:
        return None
    from yt_dlp.utils import parse_bytes

    rate = parse_bytes(text.strip())
    if not rate or rate < 1:
        raise typer.BadParameter("use bytes a second, as 500K or 4.2M", param_hint="-r")
    return int(rate)


def _archive(path: Path | None) -> Archive | None:
    if path is None:
        return None
    try:
        return Archive(path)
    except errors.ConfigError as err:
        print_error(err)
        raise typer.Exit(EXIT_SETTINGS) from None


def _given(ctx: typer.Context, names: tuple[str, ...]) -> dict[str, object]:
    """The flags among ``names`` typed on the command line or set in the config file."""
    chosen = ("COMMANDLINE", "DEFAULT_MAP")
    return {
        name: ctx.params.get(name)
        for name in names
        if getattr(ctx.get_parameter_source(name), "name", None) in chosen
    }
