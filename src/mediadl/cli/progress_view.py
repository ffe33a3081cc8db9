"""Rich progress bars fed by the engine's ``Progress`` events (thread-safe, from any thread)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from mediadl.models import Progress as Event
from mediadl.models import ProgressHook, Stage

__all__ = ["ProgressView"]

_STAGE_LABEL = {Stage.FETCH: "", Stage.MUX: "processing", Stage.DONE: "done"}
_NAME_WIDTH = 40


class ProgressView:
    """One bar per item with bytes, speed and ETA; the processing step shown by name."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=True),
            BarColumn(bar_width=None),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("[cyan]{task.fields[stage]}"),
            console=console,
            disable=not enabled,
            transient=False,
            expand=True,
        )

    def __enter__(self) -> ProgressView:
        self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, exc, tb)

    @contextmanager
    def status(self, text: str) -> Iterator[None]:
        task = self._progress.add_task(f"[dim]{text}", total=None, stage="")
        try:
            yield
        finally:
            self._progress.remove_task(task)

    @contextmanager
    def task(self, name: str) -> Iterator[ProgressHook]:
        label = escape(name if len(name) <= _NAME_WIDTH else name[: _NAME_WIDTH - 1] + "…")
        task = self._progress.add_task(label, total=None, stage="")
        try:
            yield lambda event: self._update(task, event)
        finally:
            self._progress.stop_task(task)

    def _update(self, task: TaskID, event: Event) -> None:
        stage = _STAGE_LABEL.get(event.stage, "")
        if event.stage is Stage.FETCH and event.total_is_estimate:
            stage = "≈"
        self._progress.update(task, completed=event.downloaded, total=event.total, stage=stage)
