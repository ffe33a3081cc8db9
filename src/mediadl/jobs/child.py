"""One job's run in a process of its own (``python -m mediadl.jobs.child``), so cancel is real.

The worker writes the settings and the job as one JSON line on stdin and keeps stdin open; the
child reads the link, makes each pending item in the item's work folder (resuming what an earlier
run left) and publishes it once, telling the worker what happens as JSON lines on stdout:

    {"event": "items", "title": …, "items": [{"index", "url", "title"}…]}
    {"event": "item", "index": i, "title": …}                 an item starts
    {"event": "progress", "index": i, "stage", "downloaded", "total", "speed"}
    {"event": "saved", "index": i, "file": name, "size": n}
    {"event": "failed", "index": i, "error": {"code", "message"}}
    {"event": "error", "error": {…}}                         the link itself failed

SIGTERM, or stdin closing (the worker died), cancels: the fetcher stops, ffmpeg is killed, and
the process exits; the worker removes the work folder when the job was cancelled and keeps it
when it will run again.

The child also guards the lease's fence itself (its worker may be the one that is paused): it
looks a few times a second, and once more, under the item's work-folder lock, right before it
publishes. When another worker took the job, it stops at once (status ``LOST_EXIT``) and
publishes nothing. A file that would pass ``max_filesize`` or the downloads folder's quota fails
the item before it is published (and its work is removed).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from mediadl import errors, sites
from mediadl.engine import Engine
from mediadl.engine.download import produce
from mediadl.jobs.files import check_room, job_dir, locked, publish_once, work_dir
from mediadl.jobs.model import Item, Job, JobState
from mediadl.jobs.queue import open_store
from mediadl.jobs.runner import LOST_EXIT
from mediadl.jobs.store import JobStore
from mediadl.logsetup import bind_request_id, configure
from mediadl.models import CancelToken, Choice, MediaInfo, Progress
from mediadl.settings import Settings

__all__ = ["choice_of", "main"]

log = logging.getLogger("mediadl.jobs.child")  # not __main__: it runs with -m

_PROGRESS_EVERY = 0.3
FENCE_EVERY = 0.5
"""Seconds between two looks at the lease's fence."""


class LeaseLost(Exception):
    """Another worker took this job: this run must neither publish nor go on."""


class Fence:
    """The generation of the lease this run's worker took, checked against the store."""

    def __init__(self, store: JobStore, job_id: str, fence: int) -> None:
        self.store, self.job_id, self.fence = store, job_id, fence

    def check(self) -> None:
        if not self.store.fence_holds(self.job_id, self.fence):
            # on the worker's log (stderr is its), even while the worker itself is paused
            log.warning("job %s: another worker took its lease; this run stops", self.job_id)
            raise LeaseLost()


def choice_of(data: dict[str, Any]) -> Choice:
    return Choice(
        quality=data.get("quality", "best"),
        container=data.get("container", "mp4"),
        audio=data.get("audio"),
        audio_bitrate=data.get("audio_bitrate", 128),
        mute=data.get("mute", False),
        metadata=data.get("metadata", True),
        name_template=data.get("filename"),
    )


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class Run:
    def __init__(self, settings: Settings, job: Job, cancel: CancelToken, fence: Fence) -> None:
        self.settings, self.job, self.cancel, self.fence = settings, job, cancel, fence
        self.engine = Engine(settings, sites.extractors())
        self.choice = choice_of(job.choice)

    def run(self) -> None:
        try:
            info = self.engine.resolve(self.job.url, playlist=True)
        except errors.MediadlError as exc:
            log.warning("job %s: %s: %s", self.job.id, exc.code, exc.message)
            emit("error", error=exc.to_dict())
            return
        if not self.job.resolved:
            self.job.items = _items_of(info, self.job.items_wanted)
            emit("items", title=info.title, items=[_brief(i) for i in self.job.items])
        for item in self.job.items:
            if self.cancel.cancelled:
                raise errors.Cancelled()
            if item.state in (JobState.QUEUED, JobState.RUNNING):
                self._item(info, item)

    def _item(self, info: MediaInfo, item: Item) -> None:
        emit("item", index=item.index, title=item.title)
        try:
            check_room(self.settings, 0)  # a folder filled since the job was added
            if info.is_playlist:
                info = self.engine.resolve_entry(info.entries[item.index - 1])
            plan = self.engine.plan(info, self.choice)
            work = work_dir(self.settings, self.job.id, item.index)
            made = produce(
                plan, work, settings=self.settings, progress=_reporter(item.index),
                cancel=self.cancel,
            )  # fmt: skip
            with locked(work):  # the fence's look and the link, one run at a time
                self.fence.check()
                check_room(self.settings, made.stat().st_size, made)
                saved = publish_once(made, job_dir(self.settings, self.job.id), plan.filename, work)
        except errors.Cancelled:
            raise
        except errors.MediadlError as exc:
            log.warning("job %s item %d: %s: %s", self.job.id, item.index, exc.code, exc.message)
            emit("failed", index=item.index, error=exc.to_dict())
            return
        log.info("job %s item %d: saved %s", self.job.id, item.index, saved.name)
        emit("saved", index=item.index, file=saved.name, size=saved.stat().st_size)


def _items_of(info: MediaInfo, wanted: list[int] | None) -> list[Item]:
    if not info.is_playlist:
        return [Item(1, info.webpage_url, info.title)]
    chosen = set(wanted) if wanted else None
    return [
        Item(n, e.url, e.title)
        for n, e in enumerate(info.entries, 1)
        if chosen is None or n in chosen
    ]


def _brief(item: Item) -> dict[str, Any]:
    return {"index": item.index, "url": item.url, "title": item.title}


def _reporter(index: int) -> Any:
    last = [0.0]

    def hook(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < _PROGRESS_EVERY and p.stage.value == "fetch":
            return
        last[0] = now
        emit(
            "progress",
            index=index,
            stage=p.stage.value,
            downloaded=p.downloaded,
            total=p.total,
            speed=p.speed,
        )

    return hook


def _watch(cancel: CancelToken) -> None:
    """On SIGTERM, or when stdin closes: cancel (which kills ffmpeg's process group at once)
    and exit. What is on disk stays as it is: the worker removes it on a cancel and a later
    run resumes from it when the worker died."""

    def stop() -> None:
        cancel.cancel()
        sys.stdout.flush()
        os._exit(2)

    # from a thread: the handler may interrupt the main thread while it holds the token's lock
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop).start())

    def read_until_closed() -> None:
        while sys.stdin.buffer.read(1024):
            pass
        stop()

    threading.Thread(target=read_until_closed, name="parent-watch", daemon=True).start()


def _guard(fence: Fence, cancel: CancelToken) -> None:
    """Stop at once when another worker took the job, even if this one's worker is paused."""

    def look() -> None:
        while True:
            time.sleep(FENCE_EVERY)
            try:
                fence.check()
            except LeaseLost:
                cancel.cancel()
                sys.stdout.flush()
                os._exit(LOST_EXIT)
            except Exception:  # noqa: BLE001, S112 - the store unreachable a moment: look again
                continue

    threading.Thread(target=look, name="fence-watch", daemon=True).start()


def main() -> int:
    spec = json.loads(sys.stdin.buffer.readline())
    settings = Settings(**spec["settings"])
    job = Job.from_json(spec["job"])
    configure(settings.log_format, spec.get("log_level", logging.WARNING))  # on the worker's stderr
    bind_request_id(job.request_id)
    log.info("job %s: started in process %d", job.id, os.getpid())
    cancel = CancelToken()
    _watch(cancel)
    fence = Fence(open_store(settings), job.id, int(spec["fence"]))
    _guard(fence, cancel)
    try:
        Run(settings, job, cancel, fence).run()
    except errors.Cancelled:
        return 2
    except LeaseLost:
        return LOST_EXIT
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # not sys.exit: the thread reading stdin would hold up the shutdown
