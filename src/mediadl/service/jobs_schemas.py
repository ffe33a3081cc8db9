"""Request and response bodies of the jobs API (``/api/v1/jobs``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from mediadl.service.schemas import DownloadRequest

__all__ = ["ItemOut", "JobListOut", "JobOut", "JobRequest"]

JobStateName = Literal["queued", "running", "done", "failed", "cancelled"]


class JobRequest(DownloadRequest):
    """``POST /download``'s body (link and choice), plus which playlist items to keep."""

    items: Literal["all"] | list[Annotated[int, Field(ge=1)]] = Field(
        default="all",
        description="For a playlist or multi-item post: `all`, or the 1-based positions "
        "(`index` in `POST /resolve`'s entries) to save. A single video is one item.",
        json_schema_extra={"maxItems": 1000},
    )


class ItemOut(BaseModel):
    index: int = Field(description="1-based position in the playlist; 1 for a single video.")
    url: str
    title: str | None
    state: JobStateName
    stage: str | None = Field(description="resolve, fetch, mux or done while it runs.")
    downloaded: int = Field(description="Bytes received so far.")
    total: int | None = Field(description="Bytes expected, when known.")
    speed: float | None = Field(description="Bytes per second, while fetching.")
    error: dict[str, Any] | None = Field(description="`{code, message}` when it failed.")
    file: str | None = Field(description="The saved file's name, once done.")
    size: int | None = Field(description="The saved file's size in bytes.")
    download: str | None = Field(description="Where to GET the saved file (`Range` works).")


class JobOut(BaseModel):
    id: str
    url: str = Field(description="This job's own URL in the API.")
    events: str = Field(description="Server-Sent Events of this job's changes.")
    link: str = Field(description="The page's link the job downloads.")
    state: JobStateName
    title: str | None
    choice: dict[str, Any]
    created: float = Field(description="Unix time.")
    updated: float
    started: float | None = Field(description="When a worker last started it.")
    finished: float | None
    attempts: int = Field(description="Runs started (a restart or a lost worker adds one).")
    worker: str | None = Field(description="The worker running it, or that ran it last.")
    error: dict[str, Any] | None = Field(description="Why the link couldn't be read.")
    items: list[ItemOut]


class JobListOut(BaseModel):
    jobs: list[JobOut]
    total: int = Field(description="Jobs matching the filter, on every page.")
    offset: int
    limit: int
