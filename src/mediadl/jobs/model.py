"""A job and its items as they are stored: plain records that turn into JSON and back.

A job is one request (a link, a choice, which playlist items); its items are the files it makes.
The job's state follows from its items' once they are known.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FINAL_STATES", "Item", "Job", "JobState", "new_job_id", "site_of"]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


def new_job_id() -> str:
    """128 random bits as 32 hex characters: never guessed, safe as a folder name."""
    return secrets.token_hex(16)


def site_of(url: str) -> str:
    """The host a job reads, for the per-site limit."""
    return (urlsplit(url).hostname or "").lower()


@dataclass
class Item:
    """One file of a job: a single video's, or one playlist entry's."""

    index: int
    """1-based position in the playlist; 1 for a single video."""
    url: str
    title: str | None = None
    state: JobState = JobState.QUEUED
    stage: str | None = None
    downloaded: int = 0
    total: int | None = None
    speed: float | None = None
    error: dict[str, Any] | None = None
    file: str | None = None
    """The published file's name inside the job's folder."""
    size: int | None = None

    def reset(self) -> None:
        """Back to queued, for a retry."""
        self.state, self.stage, self.error = JobState.QUEUED, None, None
        self.downloaded, self.total, self.speed = 0, None, None


@dataclass
class Job:
    id: str
    owner: str
    """Who may see it: a digest of the API key that made it, or "" when jobs are open."""
    url: str
    choice: dict[str, Any]
    """The request's choice, as ``POST /download`` takes it."""
    items_wanted: list[int] | None = None
    """Playlist positions to download; ``None``: all."""
    state: JobState = JobState.QUEUED
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    started: float | None = None
    """When a worker last started it."""
    finished: float | None = None
    title: str | None = None
    items: list[Item] = field(default_factory=list)
    resolved: bool = False
    """Whether ``items`` lists every item the job will make (the link was read)."""
    error: dict[str, Any] | None = None
    """Why the whole job failed (the link couldn't be read), if it did."""
    attempts: int = 0
    """Times a worker started it (a crash, a retry or a lost worker start it again)."""
    worker: str | None = None
    """The worker that runs it, or ran it last (``host:pid:…``)."""
    request_id: str | None = None
    """The id of the request that made it: the worker and the job's process name it in their
    log lines, so the job's story can be found across every replica and worker."""

    @property
    def site(self) -> str:
        return site_of(self.url)

    def settle(self) -> None:
        """Set the job's state from its items' (after a run ended, not cancelled)."""
        if self.error is not None or any(i.state is JobState.FAILED for i in self.items):
            self.state = JobState.FAILED
        else:
            self.state = JobState.DONE
        self.finish()

    def finish(self) -> None:
        self.finished = self.updated = time.time()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        items = [Item(**{**i, "state": JobState(i["state"])}) for i in data.get("items", ())]
        return cls(**{**data, "state": JobState(data["state"]), "items": items})
