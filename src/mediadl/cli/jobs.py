"""Jobs on a mediadl server: add, list, show, cancel, retry, rm (the server keeps the files).

Talks to `--server` (or MEDIADL_SERVER) with the API key from `--key` (or MEDIADL_API_KEY).
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import typer
from rich.console import Console
from rich.table import Table

from mediadl.cli.common import EXIT_FAILED, print_json, stderr
from mediadl.cli.helptext import HelpCommand, HelpGroup
from mediadl.models import AUDIO_FORMATS, CONTAINERS

__all__ = ["app"]

app = typer.Typer(help=__doc__, cls=HelpGroup, no_args_is_help=True, add_completion=False)

SERVER = typer.Option(
    "http://127.0.0.1:8000",
    "--server",
    envvar="MEDIADL_SERVER",
    metavar="URL",
    help="The server's address.",
)
KEY = typer.Option(None, "--key", envvar="MEDIADL_API_KEY", metavar="KEY", help="API key (a UUID).")
JSON = typer.Option(False, "--json", help="Print the server's JSON answer.")
JOB_ID = typer.Argument(..., metavar="ID", help="The job's id.")


def _call(
    method: str,
    server: str,
    key: str | None,
    path: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
) -> Any:
    """One request to the jobs API; an error answer is printed (code and message) and exits 1."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Api-Key {key}"
    query = f"?{urlencode(params)}" if params else ""
    data = json.dumps(body).encode() if body is not None else None
    request = Request(
        f"{server.rstrip('/')}/api/v1/jobs{path}{query}", data, headers, method=method
    )
    try:
        with urlopen(request, timeout=60) as answer:
            raw = answer.read()
    except HTTPError as failed:
        error = _error_of(failed.read())
        stderr.print(f"error {error[0] or failed.code}  {error[1]}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    except OSError as exc:
        stderr.print(f"error  can't reach {server}: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    return json.loads(raw) if raw else None


def _error_of(raw: bytes) -> tuple[str, str]:
    try:
        error = json.loads(raw)["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "", raw.decode("utf-8", "replace")[:200]


def _show(job: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)  # a link stays one line, to copy or to grep
    out.print(f"{job['id']}  {job['state']}  {job.get('title') or job['link']}", markup=False)
    for item in job["items"]:
        done = item["downloaded"] or 0
        size = f"{done / 1e6:.1f}/{item['total'] / 1e6:.1f} MB" if item["total"] else ""
        what = item["file"] or (item["error"] or {}).get("code") or item["stage"] or ""
        out.print(f"  {item['index']:>3}  {item['state']:<9} {size:>16}  {what}", markup=False)
        if item["download"]:
            out.print(f"       {item['download']}", markup=False, highlight=False)


@app.command("add", cls=HelpCommand)
def add(  # noqa: PLR0917 - one parameter per flag is how typer declares them
    url: str = typer.Argument(..., metavar="URL", help="The page's link."),
    quality: str = typer.Option(
        "best", "-q", "--quality", metavar="HEIGHT", help="best or a height."
    ),
    audio: str | None = typer.Option(
        None, "-a", "--audio", metavar="FORMAT", help=", ".join(AUDIO_FORMATS)
    ),
    container: str = typer.Option("mp4", "--container", metavar="EXT", help=", ".join(CONTAINERS)),
    mute: bool = typer.Option(False, "--mute", help="Video without sound."),
    items: str = typer.Option(
        "all", "--items", metavar="ITEMS", help="Playlist items: all, or 1,3,5."
    ),
    server: str = SERVER,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """Queue a download on the server."""
    body: dict[str, Any] = {"url": url, "container": container, "mute": mute}
    body["quality"] = quality if quality == "best" else int(quality.removesuffix("p"))
    if audio:
        body["audio"] = audio
    if items != "all":
        body["items"] = [int(n) for n in items.split(",") if n.strip()]
    job = _call("POST", server, key, "", body=body)
    print_json(job) if as_json else _show(job)


@app.command("list", cls=HelpCommand)
def list_jobs(
    state: str | None = typer.Option(
        None, "--state", metavar="STATE", help="queued, running, done, failed or cancelled."
    ),
    limit: int = typer.Option(50, "--limit", metavar="N", help="Jobs shown at most."),
    server: str = SERVER,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """The jobs, newest first."""
    params: dict[str, Any] = {"limit": limit, **({"state": state} if state else {})}
    page = _call("GET", server, key, "", params=params)
    if as_json:
        print_json(page)
        return
    table = Table("id", "state", "items", "title", box=None)
    for job in page["jobs"]:
        saved = sum(1 for i in job["items"] if i["state"] == "done")
        table.add_row(job["id"], job["state"], f"{saved}/{len(job['items'])}", job["title"] or "")
    Console().print(table)
    if page["total"] > len(page["jobs"]):
        stderr.print(f"{len(page['jobs'])} of {page['total']}", highlight=False)


@app.command("show", cls=HelpCommand)
def show(
    job_id: str = JOB_ID, server: str = SERVER, key: str | None = KEY, as_json: bool = JSON
) -> None:
    """One job, its items and their download links."""
    job = _call("GET", server, key, f"/{job_id}")
    print_json(job) if as_json else _show(job)


@app.command("cancel", cls=HelpCommand)
def cancel(job_id: str = JOB_ID, server: str = SERVER, key: str | None = KEY) -> None:
    """Stop a job (files already saved stay)."""
    _show(_call("POST", server, key, f"/{job_id}/cancel"))


@app.command("retry", cls=HelpCommand)
def retry(
    job_id: str = JOB_ID,
    item: int | None = typer.Option(
        None, "--item", min=1, metavar="N", help="Run only this failed or cancelled item again."
    ),
    server: str = SERVER,
    key: str | None = KEY,
) -> None:
    """Run a failed or cancelled job again (or only one of its items)."""
    path = f"/{job_id}/retry" if item is None else f"/{job_id}/items/{item}/retry"
    _show(_call("POST", server, key, path))


@app.command("rm", cls=HelpCommand)
def remove(job_id: str = JOB_ID, server: str = SERVER, key: str | None = KEY) -> None:
    """Remove a job and its files from the server."""
    _call("DELETE", server, key, f"/{job_id}")
    sys.stdout.write(f"removed {job_id}\n")
