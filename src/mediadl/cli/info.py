"""Show what a link holds: title, duration, uploader, site and the choices really available."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from mediadl import errors
from mediadl.cli.common import (
    COOKIES_FROM_BROWSER_OPTION,
    COOKIES_OPTION,
    EXIT_FAILED,
    PRIVATE_OPTION,
    PROXY_OPTION,
    link_engine,
    print_error,
    print_json,
    stdout,
    unexpected,
)
from mediadl.cli.render import human_duration, human_size, plain
from mediadl.engine.scheme import with_scheme
from mediadl.engine.summary import summarize
from mediadl.models import MediaInfo

__all__ = ["command"]


def command(  # noqa: PLR0917 - one parameter per flag is how typer declares them
    url: str = typer.Argument(..., metavar="URL", help="The video's shareable link."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    formats: bool = typer.Option(False, "--formats", help="List the site's raw formats."),
    playlist: bool = typer.Option(
        True, "--playlist/--no-playlist", help="Read the whole playlist when the link has one."
    ),
    allow_private: bool | None = PRIVATE_OPTION,
    proxy: str | None = PROXY_OPTION,
    cookies: Path | None = COOKIES_OPTION,
    cookies_from_browser: str | None = COOKIES_FROM_BROWSER_OPTION,
) -> None:
    engine = link_engine(
        allow_private=allow_private,
        proxy=proxy,
        cookies=cookies,
        cookies_from_browser=cookies_from_browser,
    )
    try:
        info = engine.resolve(with_scheme(url, engine.settings), playlist=playlist)
    except errors.MediadlError as err:
        _fail(err, as_json, url)
    except Exception as exc:  # noqa: BLE001 - a bug: logged, shown as one line
        _fail(unexpected(exc), as_json, url)
    if as_json:
        body = summarize(info)
        if formats:
            body["formats"] = [_format_dict(f) for f in info.formats]
        print_json(body)
        return
    _show(info)
    if formats:
        _show_formats(info)


def _fail(err: errors.MediadlError, as_json: bool, url: str) -> None:
    if as_json:
        print_json({"url": url, "error": {"code": err.code, "message": err.message}})
    else:
        print_error(err)
    raise typer.Exit(EXIT_FAILED)


def _show(info: MediaInfo) -> None:
    stdout.print(f"[bold]{_escape(info.title)}[/]")
    meta = [info.site, human_duration(info.duration), info.uploader]
    stdout.print("  ".join(_escape(m) for m in meta if m), style="dim")
    if info.is_playlist:
        stdout.print(f"{len(info.entries)} items:")
        for i, entry in enumerate(info.entries, 1):
            title = entry.title or entry.url
            stdout.print(f"  {i:>3}. {_escape(title)}  [dim]{human_duration(entry.duration)}[/]")
        return
    body = summarize(info)["choices"]
    table = Table(box=None, show_header=True, pad_edge=False)
    table.add_column("choice")
    table.add_column("flag")
    table.add_column("size", justify="right")
    for video in body["video"]:
        name = f"{video['height']}p" if video["height"] else "video"
        flag = f"-q {video['quality']}"
        table.add_row(name, flag, human_size(video["size"]))
    if body["mute"]:
        table.add_row("video without sound", "--mute", "")
    for audio in body["audio"]:
        label = f"audio {audio['format']} ({audio['ext']})"
        table.add_row(label, f"-a {audio['format']}", human_size(audio["size"]))
    stdout.print(table)


def _show_formats(info: MediaInfo) -> None:
    table = Table(box=None, show_header=True, pad_edge=False)
    for column in ("id", "ext", "protocol", "video", "audio", "size", "kbit/s"):
        table.add_column(column)
    for f in info.formats:
        video = f"{f.vcodec} {f.width or '?'}x{f.height or '?'}" if f.has_video else "-"
        table.add_row(
            f.id,
            f.ext,
            f.protocol,
            video,
            f.acodec or "-",
            human_size(f.size),
            f"{f.tbr:.0f}" if f.tbr else "",
        )
    stdout.print(table)


def _format_dict(f: object) -> dict[str, object]:
    from dataclasses import asdict

    body = asdict(f)  # type: ignore[call-overload]
    for private in ("raw", "http_headers", "cookies"):  # for the fetcher, not for printing
        body.pop(private, None)
    return dict(body)


def _escape(text: str | None) -> str:
    return escape(plain(text))
