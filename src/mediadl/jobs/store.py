"""Where jobs live: their records, the lease of the one worker running each, cancel requests.

Two stores with one interface: :class:`SqliteStore` (a file in the data directory, the embedded
default) and :class:`~mediadl.jobs.redis_store.RedisStore` (shared by replicas and workers).

Only the holder of a job's lease writes its record (a worker running it, or an API request that
took the lease because nobody runs it); everyone else asks through the cancel flag. The lease
is also the worker's heartbeat: a lease not renewed within ``job_lease`` seconds means its
worker died, and the job may run again. Taking a lease counts the leases alive, so the total and
per-site limits hold across every worker. Workers also beat (``beat``) while idle, so the
metrics can count the workers alive.

Each lease taken gets the next generation of the job (its *fence*). A worker writes its run's
record with :meth:`JobStore.save` given its fence, and its child checks the fence before it
publishes a file: a worker whose lease lapsed while it was paused (an overloaded machine, a
stopped process) and was taken by another can no longer write, whatever its clock says.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from mediadl.jobs.model import Job, JobState

__all__ = ["Claim", "JobStore", "SqliteStore"]


class Claim(StrEnum):
    OK = "ok"
    HELD = "held"
    """Another worker holds the job's lease."""
    BUSY = "busy"
    """The total or the site's limit of running jobs is reached."""


class JobStore(Protocol):
    def add(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job | None: ...

    def save(self, job: Job, fence: int | None = None) -> bool:
        """Write the record (the lease holder only). With ``fence``: only while no lease was
        taken since the one of that generation (else nothing is written: ``False``)."""
        ...

    def delete(self, job_id: str) -> None: ...

    def page(
        self, owner: str | None, state: JobState | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """Newest first; ``owner`` ``None``: everyone's. Also the count of all that match."""
        ...

    def claim(
        self, job_id: str, worker: str, ttl: float, *, site: str, limits: tuple[int, int] | None
    ) -> Claim:
        """Take the job's lease for ``ttl`` seconds; ``limits`` (total, per site) or none."""
        ...

    def renew(self, job_id: str, worker: str, ttl: float) -> bool:
        """Extend a lease this worker holds; ``False`` when it was lost."""
        ...

    def fence(self, job_id: str, worker: str) -> int | None:
        """The generation of the lease ``worker`` took last, while it is the last one taken."""
        ...

    def fence_holds(self, job_id: str, fence: int) -> bool:
        """Whether no lease was taken since the one of generation ``fence``."""
        ...

    def release(self, job_id: str, worker: str) -> None: ...

    def request_cancel(self, job_id: str) -> None: ...

    def cancel_requested(self, job_id: str) -> bool: ...

    def clear_cancel(self, job_id: str) -> None: ...

    def orphans(self) -> list[str]:
        """Running jobs whose lease expired: their worker is gone."""
        ...

    def finished_before(self, when: float) -> list[str]: ...

    def state_counts(self) -> dict[str, int]:
        """How many jobs are in each state (for the metrics: one cheap read)."""
        ...

    def beat(self, worker: str, ttl: float) -> None:
        """The worker is alive for ``ttl`` more seconds (0: it stopped)."""
        ...

    def workers_alive(self) -> int: ...

    def queued_idle(self, before: float) -> list[str]:
        """Queued jobs nobody holds, unchanged since ``before``: maybe without a message."""
        ...

    def close(self) -> None: ...


_SCHEMA = """
create table if not exists jobs (
    id text primary key,
    owner text not null,
    state text not null,
    site text not null,
    created real not null,
    finished real,
    doc text not null,
    worker text,
    lease_until real not null default 0,
    cancel integer not null default 0,
    gen integer not null default 0
);
create index if not exists jobs_owner_created on jobs (owner, created);
create index if not exists jobs_state on jobs (state);
create table if not exists workers (name text primary key, until real not null);
"""


class SqliteStore:
    """Jobs in one SQLite file (WAL), safe for the threads of one process and for several
    processes on one machine (every lease change is one ``BEGIN IMMEDIATE`` transaction)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("pragma table_info(jobs)")}
        if "gen" not in columns:  # a jobs.db from before fences
            self._db.execute("alter table jobs add column gen integer not null default 0")
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("begin immediate")
            try:
                yield self._db
            except BaseException:
                self._db.execute("rollback")
                raise
            self._db.execute("commit")

    def add(self, job: Job) -> None:
        with self._tx() as db:
            db.execute(
                "insert into jobs (id, owner, state, site, created, doc) values (?, ?, ?, ?, ?, ?)",
                (job.id, job.owner, job.state, job.site, job.created, _dump(job)),
            )

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("select doc from jobs where id = ?", (job_id,)).fetchone()
        return Job.from_json(json.loads(row[0])) if row else None

    def save(self, job: Job, fence: int | None = None) -> bool:
        query = "update jobs set state = ?, finished = ?, doc = ? where id = ?"
        args: list[object] = [job.state, job.finished, _dump(job), job.id]
        if fence is not None:
            query += " and gen = ?"
            args.append(fence)
        with self._tx() as db:
            return db.execute(query, args).rowcount == 1

    def delete(self, job_id: str) -> None:
        with self._tx() as db:
            db.execute("delete from jobs where id = ?", (job_id,))

    def page(
        self, owner: str | None, state: JobState | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        where, args = ["1 = 1"], []
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if state is not None:
            where.append("state = ?")
            args.append(state.value)
        clause = " and ".join(where)
        with self._lock:
            # the clause is made of the fixed strings above; every value is a parameter
            count = f"select count(*) from jobs where {clause}"  # noqa: S608
            total = self._db.execute(count, args).fetchone()
            rows = self._db.execute(
                f"select doc from jobs where {clause} order by created desc, id "  # noqa: S608
                "limit ? offset ?",
                [*args, limit, offset],
            ).fetchall()
        return [Job.from_json(json.loads(r[0])) for r in rows], int(total[0])

    def claim(
        self, job_id: str, worker: str, ttl: float, *, site: str, limits: tuple[int, int] | None
    ) -> Claim:
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "select worker, lease_until from jobs where id = ?", (job_id,)
            ).fetchone()
            if row is None:
                return Claim.HELD
            if row[1] > now and row[0] != worker:
                return Claim.HELD
            if limits is not None:
                total, per_site = limits
                alive = "select count(*) from jobs where lease_until > ? and id != ?"
                if db.execute(alive, (now, job_id)).fetchone()[0] >= total:
                    return Claim.BUSY
                on_site = db.execute(f"{alive} and site = ?", (now, job_id, site)).fetchone()[0]
                if on_site >= per_site:
                    return Claim.BUSY
            db.execute(
                "update jobs set worker = ?, lease_until = ?, gen = gen + 1 where id = ?",
                (worker, now + ttl, job_id),
            )
        return Claim.OK

    def renew(self, job_id: str, worker: str, ttl: float) -> bool:
        now = time.time()
        with self._tx() as db:
            cursor = db.execute(
                "update jobs set lease_until = ? where id = ? and worker = ? and lease_until > ?",
                (now + ttl, job_id, worker, now),
            )
            return cursor.rowcount == 1

    def fence(self, job_id: str, worker: str) -> int | None:
        with self._lock:
            row = self._db.execute(
                "select gen from jobs where id = ? and worker = ?", (job_id, worker)
            ).fetchone()
        return int(row[0]) if row else None

    def fence_holds(self, job_id: str, fence: int) -> bool:
        with self._lock:
            row = self._db.execute("select gen from jobs where id = ?", (job_id,)).fetchone()
        return bool(row and row[0] == fence)

    def release(self, job_id: str, worker: str) -> None:
        with self._tx() as db:
            db.execute(
                "update jobs set worker = null, lease_until = 0 where id = ? and worker = ?",
                (job_id, worker),
            )

    def request_cancel(self, job_id: str) -> None:
        with self._tx() as db:
            db.execute("update jobs set cancel = 1 where id = ?", (job_id,))

    def cancel_requested(self, job_id: str) -> bool:
        with self._lock:
            row = self._db.execute("select cancel from jobs where id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def clear_cancel(self, job_id: str) -> None:
        with self._tx() as db:
            db.execute("update jobs set cancel = 0 where id = ?", (job_id,))

    def orphans(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "select id from jobs where state = ? and lease_until < ?",
                (JobState.RUNNING.value, time.time()),
            ).fetchall()
        return [r[0] for r in rows]

    def finished_before(self, when: float) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "select id from jobs where finished is not null and finished < ?", (when,)
            ).fetchall()
        return [r[0] for r in rows]

    def state_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("select state, count(*) from jobs group by state").fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def beat(self, worker: str, ttl: float) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute("delete from workers where until < ?", (now - ttl,))
            db.execute("insert or replace into workers values (?, ?)", (worker, now + ttl))

    def workers_alive(self) -> int:
        with self._lock:
            row = self._db.execute(
                "select count(*) from workers where until > ?", (time.time(),)
            ).fetchone()
        return int(row[0])

    def queued_idle(self, before: float) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "select id, doc from jobs where state = ? and lease_until < ?",
                (JobState.QUEUED.value, time.time()),
            ).fetchall()
        return [r[0] for r in rows if json.loads(r[1])["updated"] < before]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _dump(job: Job) -> str:
    return json.dumps(job.to_json(), separators=(",", ":"))
