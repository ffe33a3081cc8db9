"""Progressive HTTP: one file, over one connection when that is as fast, else several by ranges.

The first request asks for everything from the first byte wanted (``Range: bytes=N-``, open-ended;
bounded only by a site's chunk size or a range already on disk). Its answer says whether the server
honours ``Range`` (``206``) and how big the file is; a ``200`` means it doesn't, and that one
response is read to the end on its own. Otherwise the size decides whether more connections pay:

* Under a per-connection cap of ``r`` bytes a second (the only case where another connection brings
  more bytes at all), ``R`` bytes left on one connection take ``R / r``. A second request sent now
  answers one request latency ``L`` later, while the first reads on; then both share the rest:
  ``(R + r·L) / (2r)``. It saves ``(R/r − L) / 2``: something once ``R > r·L``, and worth a request
  (the site's work for it, a connection the first response gives up at the boundary, and nothing
  gained at all when the cap is the server's or the machine's) once it saves ``STEAL_SECONDS``:
  ``R ≥ r · (L + 2 · STEAL_SECONDS)``. ``L`` is the controller's measured latency; ``r`` the rate
  the site gave one connection so far (time the output held a request back doesn't count: a slow
  reader of a stream is no reason for more connections), or before any is measured, and under
  the person's own speed cap (``fetch_rate_limit``), ``ASSUMED_RATE``. With 16 MiB/s and a
  loopback latency, a file under ~8.5 MiB is one request, read to its end (its connection goes
  back to the pool).
* Above it, the first request keeps only its first ``FIRST_PIECE`` bytes (it stops reading there
  and its connection is closed: one lost connection per large file, against a first piece that
  would otherwise be a request of its own) and the rest is handed out at once, as before: pieces
  from the front of the file to as many requests as :class:`AdaptiveConcurrency` allows. Each
  request costs a latency before its first byte, so a piece is an equal share of everything not
  yet received for each request the level allows (while the level may still grow, at most two
  seconds' worth, leaving work for the requests it adds): a file takes about one request per
  connection, and they finish together. A ``206`` that is shorter than asked (a site that caps its
  answers) or a first request bounded by a chunk size is read to its own end; nothing is cut.
* A request left without work takes the second half of the largest piece still running, under the
  same rule: so a file below the threshold from a slow site still gets a second connection once the
  first one's rate is measured, and one from a fast site never does.

Pieces go to a :class:`SpanOutput`: positional writes into a file (no buffering at all), or the
slots of an :class:`InOrder` stream, handed out only within a window ahead of the consumer so
memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

from mediadl import errors
from mediadl.engine.fetch.adaptive import AdaptiveConcurrency
from mediadl.engine.fetch.base import Unsupported
from mediadl.engine.fetch.client import HttpClient, Reply
from mediadl.engine.fetch.ordering import InOrder, Slot
from mediadl.engine.fetch.output import PartFile, Tally
from mediadl.engine.fetch.rate import SiteRate
from mediadl.engine.fetch.resume import Journal
from mediadl.engine.fetch.retry import Backoff
from mediadl.engine.fetch.transfer import Cursor, Resource, Sink, Source, Transfer

__all__ = ["FileSpans", "Progressive", "Span", "SpanOutput", "StreamSpans"]

MiB = 1 << 20
FIRST_PIECE = 2 * MiB
"""What the first request keeps of a file worth several connections."""
ASSUMED_RATE = 16 * MiB
"""Bytes a second one connection is taken to bring until a rate is measured (~134 Mbit/s: a good
line; a slower site shows itself within ``rate.MEASURE_SECONDS`` and gets a second connection
then)."""
DEFAULT_PIECE = 4 * MiB
MIN_PIECE = 1 * MiB
MAX_PIECE = 64 * MiB
PIECE_SECONDS = 2.0
MIN_STEAL = 256 * 1024
"""Half the least a request is started for."""
STEAL_SECONDS = 0.25
"""The least time a new request must save to be worth making."""
IDLE_POLL = 0.1


class Span(Cursor):
    """A piece of the file owned by one request: ``[pos, end)`` still to come."""

    __slots__ = ()


class SpanOutput(Protocol):
    """Where the pieces go."""

    window: int | None
    """Bytes ahead of the consumer that may be handed out (``None``: no limit)."""

    def low(self) -> int:
        """The consumer's position: the first byte not yet taken from the output."""
        ...

    def open(self, span: Span) -> Sink: ...

    def close(self, span: Span) -> None: ...

    def end_at(self, end: int) -> None: ...


class FileSpans:
    """Pieces written where they belong in a ``.part`` file, as they arrive (and noted in its
    journal, when it has one, so a later run knows they are there)."""

    window: int | None = None

    def __init__(self, part: PartFile, tally: Tally, journal: Journal | None = None) -> None:
        self.part, self.tally, self.journal = part, tally, journal

    def low(self) -> int:
        return 0

    def open(self, span: Span) -> Sink:
        async def sink(offset: int, data: bytes) -> None:
            self.part.write_at(offset, data)
            if self.journal is not None:
                self.journal.wrote(offset, len(data))
            self.tally.add(len(data))

        return sink

    def close(self, span: Span) -> None:
        return None

    def end_at(self, end: int) -> None:
        return None


class StreamSpans:
    """Pieces as slots of an in-order stream that starts at byte ``start``."""

    def __init__(self, order: InOrder, *, start: int, window: int, tally: Tally) -> None:
        self.order, self.start, self.tally = order, start, tally
        self.window: int | None = window
        self._slots: dict[Span, Slot] = {}

    def low(self) -> int:
        return self.start + self.order.delivered

    def open(self, span: Span) -> Sink:
        slot = self._slots[span] = self.order.slot(span.pos)

        async def sink(offset: int, data: bytes) -> None:
            self.tally.add(len(data))  # first: progress hears of bytes before a reader has them
            await self.order.put(slot, data)

        return sink

    def close(self, span: Span) -> None:
        slot = self._slots.pop(span)
        self.order.finish(slot, span.pos)

    def end_at(self, end: int) -> None:
        self.order.end_at(end)


class Progressive:
    """Fetches ``source`` from byte ``start`` into ``output``.

    With a ``journal`` whose ranges are already on disk, only the holes between them are
    fetched; a source that no longer matches the journal raises :class:`Stale`.
    """

    def __init__(
        self,
        client: HttpClient,
        source: Source,
        output: SpanOutput,
        *,
        pace: AdaptiveConcurrency,
        backoff: Backoff,
        tally: Tally,
        start: int = 0,
        max_piece: int | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.client, self.source, self.output = client, source, output
        self.journal = journal
        self.have = journal.ranges if journal is not None else None
        if self.have:
            start = self.have.end_of_range_at(start)
        self.max_piece = max(MIN_PIECE, min(MAX_PIECE, max_piece or MAX_PIECE))
        self.chunk = self.max_piece if max_piece else None
        """The site's largest request (yt-dlp's ``http_chunk_size``), when it has one."""
        self.site_rate = SiteRate()
        self.pace, self.backoff, self.tally = pace, backoff, tally
        self._from = start if journal is None else 0
        """Where the bytes counted by ``tally`` begin (a journal's ranges count too)."""
        self.start = start
        self.resource = Resource()
        self.total: int | None = None
        self.ranged = False
        self.frontier = start
        self._running: dict[Span, asyncio.Task[None]] = {}
        self._origin: dict[Span, int] = {}
        """Where each running piece began."""
        self._known = False
        self._changed = asyncio.Event()
        self._failure: BaseException | None = None
        self._cut: Span | None = None
        """The first request, when it stops reading at ``FIRST_PIECE`` and closes."""
        self._late: asyncio.TimerHandle | None = None
        """Its place, given back a moment after it closed (:meth:`_settle`)."""

    async def run(self) -> None:
        """Fetch everything or raise; every request is finished or cancelled on return."""
        try:
            await self.pace.acquire()
            first = Span(self.start, self._first_end())
            self.frontier = first.end or self.start
            self._spawn(first, on_reply=lambda reply: self._first_reply(first, reply))
            await self._dispatch()
        finally:
            for task in self._running.values():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self._running.values(), return_exceptions=True)
            if self._late is not None:  # the download is over: no place is held back
                self._late.cancel()
                self._give_back()
        if self.total is not None and self.tally.done != self.total - self._from:
            raise errors.FetchIncomplete(
                host=self.source.context.get("host"), received=self.tally.done, expected=self.total
            )

    def _first_reply(self, span: Span, reply: Reply) -> None:
        if reply.partial and reply.total is None:
            raise Unsupported("a ranged answer that doesn't say the file's size")
        if self.journal is not None:
            self.journal.check_source(
                reply.total if reply.partial else reply.length,
                reply.validator,
                ranged=reply.partial,
            )
        if reply.partial and reply.total is not None:
            self.total, self.ranged = reply.total, True
            span.end = self._first_answered(span, reply)
            self.frontier = span.end
        else:  # Range ignored: this one response carries the whole file
            self.total = reply.length
            span.end = reply.length
            self.frontier = reply.length if reply.length is not None else 1 << 62
        self.tally.expect(None if self.total is None else self.total - self._from)
        if self.total is not None:
            self.output.end_at(self.total)
        self._known = True
        self._changed.set()

    def _first_answered(self, span: Span, reply: Reply) -> int:
        """Where the first request stops: the end of what it was answered (a site may cap its
        answers), or ``FIRST_PIECE`` on when the rest is worth more connections."""
        assert self.total is not None
        end = self.total if span.end is None else min(span.end, self.total)
        answered = reply.offset + (reply.length or 0)
        if span.pos < answered < end:
            return answered  # read to its own end; the rest comes in pieces as usual
        if self.chunk is None and self._worth_splitting(self._left()):
            self._cut = span
            return min(end, span.pos + FIRST_PIECE)
        return end

    def _left(self) -> int:
        """Bytes of the file not fetched yet, nor on disk."""
        assert self.total is not None
        if self.have:
            return self.total - self.have.covered()
        return self.total - self.start

    def _worth_splitting(self, remaining: int) -> bool:
        """Whether ``remaining`` bytes on one request go faster enough on two (the module's
        arithmetic): ``remaining ≥ r · (L + 2 · STEAL_SECONDS)``."""
        # under the person's own speed cap the rate measured is the cap's: more connections
        # can't beat it, so the site counts as fast
        measured = self.site_rate.rate if self.client.rate is None else None
        rate = measured or ASSUMED_RATE
        least = rate * (self.pace.latency + 2 * STEAL_SECONDS)
        return remaining >= max(2 * MIN_STEAL, least)

    async def _dispatch(self) -> None:
        while True:
            if self._failure is not None:
                raise self._failure
            if self._known and not self._running and self._finished():
                return
            span = None
            if self._known and self.ranged:
                await self.pace.acquire()
                span = self._take()
                if span is not None:
                    self._spawn(span)
                    continue
                self.pace.release()
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_POLL):
                    await self._changed.wait()

    def _finished(self) -> bool:
        if self.have and self.total is not None:
            self.frontier = self.have.end_of_range_at(self.frontier)
        return self.total is None or self.frontier >= self.total

    def _spawn(self, span: Span, *, on_reply: Callable[[Reply], None] | None = None) -> None:
        transfer = Transfer(
            self.client,
            self.source,
            span,
            self.site_rate.measure(self.output.open(span)),
            backoff=self.backoff,
            resource=self.resource,
            pace=self.pace,
            on_reply=on_reply,
            on_end=lambda: self._read_on(span),
        )
        task = asyncio.get_running_loop().create_task(self._fetch(span, transfer))
        self._running[span] = task
        self._origin[span] = span.pos
        # settled when the task is done, however: one cancelled before it ever ran (a piece
        # given back at once, :meth:`_read_on`) runs no ``finally`` of its own
        task.add_done_callback(lambda _task: self._settle(span))

    async def _fetch(self, span: Span, transfer: Transfer) -> None:
        try:
            await transfer.run()
            if span.end is None:  # a whole-file response without a length: its end is the end
                self.total = span.pos
                self.frontier = span.pos
                self.output.end_at(span.pos)
            self.output.close(span)
        except Exception as exc:  # noqa: BLE001 - handed to the dispatcher, which raises it
            if self._failure is None:
                self._failure = exc

    def _settle(self, span: Span) -> None:
        """A piece's request is over: its place goes back, the dispatcher looks again.

        The first request cut at ``FIRST_PIECE`` closed its connection while the site was still
        sending: the site sees it gone only a moment later, so its place comes back one request
        latency later, or a new request would make one more connection than allowed there."""
        del self._running[span], self._origin[span]
        if span is self._cut and self._failure is None:
            self._cut = None
            self._late = asyncio.get_running_loop().call_later(self.pace.latency, self._give_back)
            return
        self._give_back()

    def _give_back(self) -> None:
        self._late = None
        self.pace.release()
        self._changed.set()

    def _read_on(self, span: Span) -> None:
        """``span`` reached where another piece begins while its response goes on: when that
        piece has nothing yet (its request waits for a place, a 429's pause, an answer), it is
        given back and ``span`` reads on, instead of closing its connection for a request that
        would follow it anyway (and, at a site that counts connections, be refused again)."""
        after = next((s for s, at in self._origin.items() if at == span.end), None)
        if after is None or after.pos != span.end or after is span:
            return
        span.end, after.end = after.end, after.pos
        self._running[after].cancel()

    # --- planning ---------------------------------------------------------------------------

    def _first_end(self) -> int | None:
        """The first request's end: none (the whole file), unless the site takes no more than a
        chunk at a time or a range already on disk comes first."""
        ends = [self.start + self.chunk] if self.chunk else []
        following = self.have.next_start(self.start) if self.have else None
        ends += [following] if following is not None else []
        return min(ends, default=None)

    def _piece_end(self, pos: int, size: int) -> int:
        """``pos + size``, or sooner where a range already on disk begins."""
        following = self.have.next_start(pos) if self.have else None
        return pos + size if following is None else min(pos + size, following)

    def _take(self) -> Span | None:
        assert self.total is not None
        if self.have:
            self.frontier = self.have.end_of_range_at(self.frontier)
        if self.frontier >= self.total:
            return self._steal()
        window = self.output.window
        limit_end = self.total if window is None else min(self.total, self.output.low() + window)
        available = limit_end - self.frontier
        if available < min(MIN_PIECE, self.total - self.frontier):
            return None
        size = min(available, self._piece_size())
        span = Span(self.frontier, self._piece_end(self.frontier, size))
        self.frontier = span.end or self.frontier
        return span

    def _piece_size(self) -> int:
        """An equal share of everything not yet received for each request the level allows, so
        the requests finish together after one request each (every request costs a latency;
        the last bytes are shared by splitting the largest piece). While the level may still
        grow, a piece lasts at most ``PIECE_SECONDS``, leaving work for the requests it adds."""
        assert self.total is not None
        running = sum(span.remaining or 0 for span in self._running)
        share = -(-(self.total - self.frontier + running) // max(1, self.pace.limit))
        if self.pace.limit < self.pace.maximum:
            rate = self.pace.per_request_rate
            share = min(share, int(rate * PIECE_SECONDS) if rate > 0 else DEFAULT_PIECE)
        return max(MIN_PIECE, min(self.max_piece, share))

    def _steal(self) -> Span | None:
        """Half of the largest piece still running, when that is worth a new request."""
        spans = [s for s in self._running if s.end is not None]
        if not spans:
            return None
        victim = max(spans, key=lambda s: (s.end or 0) - s.pos)
        remaining = (victim.end or 0) - victim.pos
        if not self._worth_splitting(remaining):
            return None
        middle = victim.pos + remaining // 2
        span = Span(middle, victim.end)
        victim.end = middle
        return span
