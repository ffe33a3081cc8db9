"""Jobs in the native API: downloads the server runs and keeps (when ``MEDIADL_JOBS`` is on).

POST   /api/v1/jobs                      {url, choice…, items}  → 202 the job, queued
GET    /api/v1/jobs                      ?state=&offset=&limit= → newest first
GET    /api/v1/jobs/{id}                                        → the job and its items
GET    /api/v1/jobs/{id}/events                                 → SSE: `job` on every change
POST   /api/v1/jobs/{id}/cancel                                 → 202 (stops within a second)
POST   /api/v1/jobs/{id}/retry                                  → 202 what failed runs again
POST   /api/v1/jobs/{id}/items/{index}/retry                    → 202 that item runs again
DELETE /api/v1/jobs/{id}                                        → 204, its files removed too
GET    /api/v1/jobs/{id}/files/{index}                          → the saved file (Range)

Who: with ``jobs_open`` anyone, and everyone sees every job; otherwise an API key
(``Authorization: Api-Key …``, or ``?key=`` where a browser can't send headers), and each key
sees only the jobs it made (others' answer ``jobs.not_found``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from mediadl import errors
from mediadl.jobs import FINAL_STATES, Job, Jobs, JobState, new_job_id
from mediadl.jobs.files import job_dir
from mediadl.logsetup import current_request_id
from mediadl.service.auth import KeyCheck, check_key
from mediadl.service.context import Context, ServiceContext
from mediadl.service.headers import content_disposition
from mediadl.service.jobs_schemas import ItemOut, JobListOut, JobOut, JobRequest
from mediadl.service.links import check_link
from mediadl.service.problems import AuthInvalid, AuthMissing
from mediadl.service.schemas import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

_ERRORS = error_responses(400, 401, 404, 409, 413, 422, 429, 507)
_ID = re.compile(r"^[0-9a-f]{32}$")
EVENTS_EVERY = 0.25
"""Seconds between two looks at a job for its event stream."""


def _owner_of(ctx: ServiceContext, authorization: str | None) -> str | None:
    """``None``: sees every job (jobs open to everyone); else the key's digest."""
    if ctx.jobs is None:
        raise errors.JobsDisabled()
    if ctx.settings.jobs_open:
        return None
    outcome = check_key(ctx.settings, authorization)
    if outcome is KeyCheck.OK:
        key = authorization.partition(" ")[2].lower() if authorization else ""
        return hashlib.sha256(key.encode()).hexdigest()[:32]
    if outcome in (KeyCheck.MISSING, KeyCheck.NOT_API_KEY):
        raise AuthMissing("Jobs on this server need an API key: 'Authorization: Api-Key <key>'.")
    raise AuthInvalid()


def job_owner(
    ctx: Context,
    authorization: Annotated[str | None, Header(description="`Api-Key <uuid>`.")] = None,
    key: Annotated[
        str | None, Query(max_length=64, description="API key, for links a browser opens.")
    ] = None,
) -> str | None:
    return _owner_of(ctx, authorization or (f"Api-Key {key}" if key else None))


Owner = Annotated[str | None, Depends(job_owner)]


def _jobs(ctx: ServiceContext) -> Jobs:
    assert ctx.jobs is not None  # job_owner checked it
    return ctx.jobs


def _checked_id(job_id: str) -> str:
    if not _ID.match(job_id):
        raise errors.JobNotFound()
    return job_id


@router.post("", status_code=202, response_model=JobOut, responses=_ERRORS)
async def add_job(
    body: JobRequest, request: Request, response: Response, ctx: Context, owner: Owner
) -> JobOut:
    """Queue a download that the server runs and keeps: `202` with the job (queued); follow
    it with `GET` its `url` or its `events`. `jobs.quota` (507) when the downloads folder is
    full."""
    check_link(body.url)
    choice = body.model_dump(exclude={"url", "items", "item"})
    wanted = None if body.items == "all" else sorted(set(body.items))
    if body.item is not None:
        wanted = [body.item]
    job = Job(
        new_job_id(),
        owner or "",
        body.url,
        choice,
        items_wanted=wanted,
        request_id=current_request_id(),  # the worker and the job's process log it again
    )
    await asyncio.to_thread(_jobs(ctx).add, job)
    out = job_out(ctx, request, job)
    response.headers["Location"] = out.url
    return out


@router.get("", response_model=JobListOut, responses=_ERRORS)
async def list_jobs(
    request: Request,
    ctx: Context,
    owner: Owner,
    *,
    state: JobState | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobListOut:
    """Jobs, newest first, `limit` at a time from `offset`; only those in `state` if given."""
    found, total = await asyncio.to_thread(_jobs(ctx).store.page, owner, state, offset, limit)
    jobs = [job_out(ctx, request, j) for j in found]
    return JobListOut(jobs=jobs, total=total, offset=offset, limit=limit)


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS)
async def get_job(job_id: str, request: Request, ctx: Context, owner: Owner) -> JobOut:
    """The job: its state and each item's progress, error, saved file and download link."""
    job = await asyncio.to_thread(_jobs(ctx).get, _checked_id(job_id), owner)
    return job_out(ctx, request, job)


@router.get("/{job_id}/events", response_class=EventSourceResponse, responses=_ERRORS)
async def job_events(
    job_id: str, request: Request, ctx: Context, owner: Owner
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: `job` (the whole job, as `GET` gives it) at once and on every
    change; the stream ends after the job is done, failed or cancelled, or when nothing
    changed for `event_stream_idle` seconds (subscribe again)."""
    jobs, checked = _jobs(ctx), _checked_id(job_id)
    job = await asyncio.to_thread(jobs.get, checked, owner)
    last, changed = None, time.monotonic()
    while time.monotonic() - changed < ctx.settings.event_stream_idle:
        out = job_out(ctx, request, job)
        if out != last:
            yield ServerSentEvent(event="job", data=out)
            last, changed = out, time.monotonic()
        if job.state in FINAL_STATES:
            return
        await asyncio.sleep(EVENTS_EVERY)
        job = await asyncio.to_thread(jobs.get, checked, owner)


@router.post("/{job_id}/cancel", status_code=202, response_model=JobOut, responses=_ERRORS)
async def cancel_job(job_id: str, request: Request, ctx: Context, owner: Owner) -> JobOut:
    """Stop the job wherever it is (queued, reading the link, fetching, in ffmpeg): its work
    folder goes and it becomes `cancelled` within a second; files already saved stay."""
    job = await asyncio.to_thread(_jobs(ctx).cancel, _checked_id(job_id), owner)
    return job_out(ctx, request, job)


@router.post("/{job_id}/retry", status_code=202, response_model=JobOut, responses=_ERRORS)
async def retry_job(job_id: str, request: Request, ctx: Context, owner: Owner) -> JobOut:
    """Queue a failed or cancelled job again: its items that aren't saved run again
    (`jobs.conflict`, 409, for a job in another state)."""
    job = await asyncio.to_thread(_jobs(ctx).retry, _checked_id(job_id), owner)
    return job_out(ctx, request, job)


@router.post(
    "/{job_id}/items/{index}/retry", status_code=202, response_model=JobOut, responses=_ERRORS
)
async def retry_item(
    job_id: str, index: int, request: Request, ctx: Context, owner: Owner
) -> JobOut:
    """Queue one failed or cancelled item of an ended job again; only it runs, the job's saved
    files stay as they are. `jobs.conflict` (409) while the job is queued or running, or when
    the item is saved already; `jobs.not_found` (404) when the job has no such item."""
    retry = _jobs(ctx).retry_item
    job = await asyncio.to_thread(retry, _checked_id(job_id), index, owner)
    return job_out(ctx, request, job)


@router.delete("/{job_id}", status_code=204, responses=_ERRORS)
async def delete_job(job_id: str, ctx: Context, owner: Owner) -> Response:
    """Remove the job and its files (a running one is stopped first)."""
    await asyncio.to_thread(_jobs(ctx).remove, _checked_id(job_id), owner)
    return Response(status_code=204)


@router.get("/{job_id}/files/{index}", response_class=FileResponse, responses=_ERRORS)
async def job_file(job_id: str, index: int, ctx: Context, owner: Owner) -> FileResponse:
    """A saved file of the job, with `Range` (resumable downloads, players that seek)."""
    job = await asyncio.to_thread(_jobs(ctx).get, _checked_id(job_id), owner)
    item = next((i for i in job.items if i.index == index and i.file), None)
    if item is None or item.file is None:
        raise errors.JobNotFound("This job has no saved file at that position.")
    path = job_dir(ctx.settings, job.id) / item.file
    if not path.is_file():
        raise errors.JobNotFound("This file was removed from the server.")
    return FileResponse(
        path, headers={"Content-Disposition": content_disposition(item.file)}, stat_result=None
    )


def job_out(ctx: ServiceContext, request: Request, job: Job) -> JobOut:
    base = f"{ctx.public_base(request)}/api/v1/jobs/{job.id}"
    items = [
        ItemOut(
            index=i.index,
            url=i.url,
            title=i.title,
            state=i.state.value,
            stage=i.stage,
            downloaded=i.downloaded,
            total=i.total,
            speed=i.speed,
            error=i.error,
            file=i.file,
            size=i.size,
            download=f"{base}/files/{i.index}" if i.file else None,
        )
        for i in job.items
    ]
    return JobOut(
        id=job.id,
        url=base,
        events=f"{base}/events",
        link=job.url,
        state=job.state.value,
        title=job.title,
        choice=job.choice,
        created=job.created,
        updated=job.updated,
        started=job.started,
        finished=job.finished,
        attempts=job.attempts,
        worker=job.worker,
        error=job.error,
        items=items,
    )
