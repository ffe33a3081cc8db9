"""The terminal while ``mediadl get`` runs: live bars, and every other line printed above them.

Rich redraws its bars in place (cursor up, erase line). Anything written to the same terminal
behind its back lands inside the bars and is overwritten or leaves fragments; so every line —
errors, notes, the ``saved`` summary, log records, even ``--json`` lines when stdout is that same
terminal — goes through :meth:`ProgressView.line`, which rich prints above the live area. A bar
leaves the screen when its item ends (its outcome line replaces it): nothing frozen stays behind.

At 80 columns a bar holds on one line with its size, speed and time left: the name gives way
first (cut with "…"), then the bar itself.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import IO, Any

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskID
from rich.table import Column
from rich.text import Text

from mediadl.cli.render import human_duration, human_size, plain
from mediadl.models import Progress as Event
from mediadl.models import ProgressHook, Stage

__all__ = ["ItemStats", "ProgressView"]

_STAGE_LABEL = {Stage.FETCH: "", Stage.MUX: "processing", Stage.DONE: ""}
_NOTE_SECONDS = 3.0


class ItemStats:
    """How long one item took, from its bar's start to its end (for the closing line)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.ended: float | None = None

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


class ProgressView:
    """One bar per item; ``line`` prints above the bars; ``note`` shows on the current bar."""

    def __init__(
        self,
        console: Console,
        *,
        enabled: bool,
        quiet: bool = False,
        stdout: IO[str] | None = None,
    ) -> None:
        """``enabled``: draw bars (a terminal); ``quiet``: errors only, no ``saved`` lines."""
        self.console = console
        self.enabled = enabled
        self.quiet = quiet
        self._stdout = stdout or sys.stdout
        self._current: TaskID | None = None
        self._lock = threading.Lock()
        self._retries = _NoteHandler(self)
        self._progress = Progress(
            SpinnerColumn(),
            _NameColumn(),
            BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=8)),
            _SizeColumn(),
            _SpeedColumn(),
            _TimeLeftColumn(),
            _StageColumn(),
            console=console,
            disable=not enabled,
            transient=True,  # each item's outcome is a line of its own: the bars just go
            expand=True,
            redirect_stdout=False,  # handled by json_line: stdout may be a pipe
            redirect_stderr=False,
        )

    def __enter__(self) -> ProgressView:
        self._progress.__enter__()
        _RETRIES.addHandler(self._retries)
        _RETRIES.setLevel(logging.INFO)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _RETRIES.removeHandler(self._retries)
        self._progress.__exit__(kind, exc, tb)

    def line(self, text: RenderableType) -> None:
        """One line (or more) on the terminal, above the live bars, never inside them."""
        self.console.print(text, highlight=False, soft_wrap=True)

    def json_line(self, line: str) -> None:
        """A ``--json`` line on stdout. When stdout is the terminal the bars are drawn on, it
        goes through the console (above the bars), or the next redraw would overwrite it."""
        if self.enabled and _same_terminal(self._stdout, self.console.file):
            self.console.print(Text(line), highlight=False, soft_wrap=True, markup=False)
            return
        self._stdout.write(line + "\n")
        self._stdout.flush()

    def note(self, text: str) -> None:
        """A short note on the current bar (a retry): shown for a few seconds at least, so
        that a person sees it even when the bytes come back at once."""
        with self._lock:
            task = self._current
        if task is not None:
            self._progress.update(
                task, note=plain(text), note_until=time.monotonic() + _NOTE_SECONDS
            )

    @contextmanager
    def status(self, text: str) -> Iterator[None]:
        """A spinner with ``text`` while something without a size runs (reading a page)."""
        task = self._add(Text(plain(text), style="dim"))
        try:
            yield
        finally:
            self._remove(task)

    @contextmanager
    def task(self, name: str) -> Iterator[tuple[ProgressHook, ItemStats]]:
        """A bar for one item; it leaves the screen when the block ends."""
        stats = ItemStats()
        task = self._add(Text(plain(name)))

        try:
            yield (lambda event: self._update(task, event)), stats
        finally:
            stats.ended = time.monotonic()
            self._remove(task)

    def _add(self, description: Text) -> TaskID:
        task = self._progress.add_task(
            "", total=None, label=description, stage="", note="", speed=None, eta=None
        )
        with self._lock:
            self._current = task
        return task

    def _note_until(self, task: TaskID) -> float:
        for shown in self._progress.tasks:
            if shown.id == task:
                return float(shown.fields.get("note_until") or 0.0)
        return 0.0

    def _remove(self, task: TaskID) -> None:
        with self._lock:
            if self._current == task:
                self._current = None
        self._progress.remove_task(task)

    def _update(self, task: TaskID, event: Event) -> None:
        fields: dict[str, Any] = {
            "stage": _STAGE_LABEL.get(event.stage, ""),
            "estimate": event.stage is Stage.FETCH and event.total_is_estimate,
        }
        if event.stage is Stage.FETCH:
            fields.update(speed=event.speed, eta=event.eta)
        else:
            fields.update(speed=None, eta=None)
        if time.monotonic() > self._note_until(task):
            fields["note"] = ""
        self._progress.update(task, completed=event.downloaded, total=event.total, **fields)


_RETRIES = logging.getLogger("mediadl.fetch.retry")


class _NoteHandler(logging.Handler):
    """The fetcher's retry records as a note on the current bar, so a stall is explained."""

    def __init__(self, view: ProgressView) -> None:
        super().__init__(logging.INFO)
        self._view = view

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._view.note(record.getMessage())
        except Exception:  # noqa: BLE001 - a note must never break the download
            self.handleError(record)


def _same_terminal(stdout: IO[str], console_file: IO[str]) -> bool:
    try:
        return stdout.isatty() and console_file.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


class _NameColumn(ProgressColumn):
    """The item's name: gives way first when the line is short (cut with "…")."""

    def __init__(self) -> None:
        super().__init__(Column(ratio=2, min_width=10, no_wrap=True, overflow="ellipsis"))

    def render(self, task: Task) -> RenderableType:
        label = task.fields.get("label")
        return label if isinstance(label, Text) else Text(str(label or ""))


class _SizeColumn(ProgressColumn):
    """``12.3/45.6 MB`` (``≈`` when the total is an estimate), or what came so far."""

    def __init__(self) -> None:
        super().__init__(Column(no_wrap=True, justify="right"))

    def render(self, task: Task) -> RenderableType:
        if task.total is None and not task.completed:
            return Text("")
        done = human_size(task.completed)
        if task.fields.get("stage"):  # processing: the bytes are all in
            return Text(human_size(task.total), style="green")
        if task.total is None:
            return Text(done, style="green")
        mark = "≈" if task.fields.get("estimate") else ""
        return Text(f"{done}/{mark}{human_size(task.total)}", style="green")


class _SpeedColumn(ProgressColumn):
    """The engine's own speed figure (bytes of the last seconds), not a guess from the bar."""

    def __init__(self) -> None:
        super().__init__(Column(no_wrap=True, justify="right"))

    def render(self, task: Task) -> RenderableType:
        speed = task.fields.get("speed")
        return Text(f"{human_size(speed)}/s" if speed else "", style="red")


class _TimeLeftColumn(ProgressColumn):
    def __init__(self) -> None:
        super().__init__(Column(no_wrap=True, justify="right"))

    def render(self, task: Task) -> RenderableType:
        eta = task.fields.get("eta")
        return Text(human_duration(eta) if isinstance(eta, int | float) else "", style="cyan")


class _StageColumn(ProgressColumn):
    """``processing`` after the bytes are in, or a note (``retrying…``) while they stall."""

    def __init__(self) -> None:
        super().__init__(Column(no_wrap=True, overflow="ellipsis", max_width=24))

    def render(self, task: Task) -> RenderableType:
        note = task.fields.get("note") or ""
        if note:
            return Text(str(note), style="yellow")
        return Text(str(task.fields.get("stage") or ""), style="cyan")
