"""The sites mediadl names: how each one reads, which extractor takes a link, which still work.

``mediadl sites`` prints the catalogue (offline: no request); ``--match URL`` names the extractor
a download of that link would use (offline too: the engine's own lookup); ``--check`` reads one
sample link per site (needs the internet, or ``--base`` for a replica server).
"""

from __future__ import annotations

import typer
from rich.table import Table

from mediadl import errors
from mediadl.cli.common import EXIT_FAILED, cli_settings, print_error, print_json, stderr, stdout
from mediadl.engine import extractor_for, normalize_url
from mediadl.sites.catalog import CATALOG, Site
from mediadl.sites.check import Offline, Outcome, aimed_extractors, check

__all__ = ["command"]


def command(  # noqa: PLR0917 - one parameter per flag is how typer declares them
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    match: str | None = typer.Option(
        None, "--match", metavar="URL", help="Name the extractor that would take this link."
    ),
    run_check: bool = typer.Option(
        False, "--check", help="Read one sample link per site (needs the internet)."
    ),
    base: str | None = typer.Option(
        None,
        "--base",
        metavar="URL",
        help="With --check: read each sample from a replica server at <base>/<host>/<path>.",
    ),
    only: list[str] = typer.Option(
        [], "--site", metavar="TITLE", help="With --check: only this site (repeatable)."
    ),
    jobs: int = typer.Option(
        4, "--jobs", min=1, max=16, metavar="N", help="With --check: sites at once."
    ),
    deadline: float = typer.Option(
        30.0,
        "--deadline",
        min=1.0,
        metavar="SECONDS",
        help="With --check: seconds each site may take.",
    ),
) -> None:
    if match is not None:
        _match(match, as_json, base)
    elif run_check:
        _check(_chosen(only), as_json, base, jobs, deadline)
    else:
        _list(as_json)


def _list(as_json: bool) -> None:
    if as_json:
        print_json([site.to_dict() for site in CATALOG])
        return
    table = Table(box=None, show_header=True, pad_edge=False)
    for column in ("#", "site", "status", "extractor / error", "why"):
        table.add_column(column, justify="right" if column == "#" else "left")
    for i, site in enumerate(CATALOG, 1):
        table.add_row(str(i), site.title, site.status, site.error or site.extractor, _why(site))
    stdout.print(table, markup=False, highlight=False)


def _why(site: Site) -> str:
    return site.reason if site.status == "limited" and site.reason else ""


def _match(url: str, as_json: bool, base: str | None) -> None:
    try:
        clean = normalize_url(url)
    except errors.MediadlError as err:
        print_error(err)
        raise typer.Exit(EXIT_FAILED) from None
    cache = cli_settings().data_dir / "cache"
    found = extractor_for(clean, aimed_extractors(base), cache_dir=cache)
    key = found.ie_key() if found else None
    origin = (
        "mediadl" if found is not None and found.__module__.startswith("mediadl.") else "yt-dlp"
    )
    if as_json:
        print_json({"url": clean, "extractor": key, "by": origin})
    elif key is None:
        stdout.print("no extractor takes this link", markup=False, highlight=False)
    else:
        stdout.print(f"{key}  ({origin})", markup=False, highlight=False)


def _chosen(titles: list[str]) -> tuple[Site, ...]:
    if not titles:
        return CATALOG
    wanted = {t.casefold() for t in titles}
    chosen = tuple(site for site in CATALOG if site.title.casefold() in wanted)
    unknown = wanted - {site.title.casefold() for site in chosen}
    if unknown:
        stderr.print(f"mediadl: no such site: {', '.join(sorted(unknown))}", markup=False)
        raise typer.Exit(2)
    return chosen


def _check(
    chosen: tuple[Site, ...], as_json: bool, base: str | None, jobs: int, deadline: float
) -> None:
    settings = cli_settings(connect_timeout=min(10.0, deadline), read_timeout=deadline)
    outcomes: list[Outcome] = []
    try:
        for outcome in check(chosen, settings, base=base, jobs=jobs, deadline=deadline):
            outcomes.append(outcome)
            if not as_json:
                stderr.print(f"  {outcome.site.title}", style="dim", highlight=False)
    except Offline as exc:
        stderr.print(f"mediadl: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    order = {site.title: i for i, site in enumerate(chosen)}
    outcomes.sort(key=lambda o: order[o.site.title])
    if as_json:
        print_json([o.to_dict() for o in outcomes])
    else:
        _show(outcomes)
    if not all(o.ok for o in outcomes):
        raise typer.Exit(EXIT_FAILED)


def _show(outcomes: list[Outcome]) -> None:
    table = Table(box=None, show_header=True, pad_edge=False)
    for column in ("site", "result", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for o in outcomes:
        result = ("ok" if o.ok else "failed") + (f" ({o.code})" if o.code else "")
        table.add_row(o.site.title, result, f"{o.seconds:.1f}")
    stdout.print(table, markup=False, highlight=False)
    passed = sum(o.ok for o in outcomes)
    stdout.print(f"{passed} of {len(outcomes)} passed", markup=False, highlight=False)
