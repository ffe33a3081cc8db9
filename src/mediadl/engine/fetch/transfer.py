"""One resilient transfer: bytes ``[pos, end)`` of a URL into a sink, whatever the line does.

A drop, a stall, a short body or a lying ``Content-Length`` resumes from the last byte received
(``Range`` + ``If-Range``); a server that ignores ``Range`` is read from the start again and the
bytes we already have are skipped. ``503``/``429`` and transport errors are retried with backoff;
a try that brought at least :data:`FRESH_START` new bytes resets the count and is resumed at once.
A try that brought less counts as a failure like one that brought nothing, and so does a try cut
for being too slow (``RequestFailed.slow``), whatever it brought: a site that honours ``Range``
and sends a few bytes per connection, or one that drips, would otherwise be asked again for
ever. When tries run out, the ``fetch.*`` error names the host, the status and the caller's
context (format id, fragment).

The cursor's ``end`` may shrink while the transfer runs (another worker took the rest); the
transfer then stops there and closes its connection, unless ``on_end`` moves the end on again
when it comes (the worker that took the rest hasn't begun: this response reads on instead).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mediadl import errors
from mediadl.engine.fetch.adaptive import Pace
from mediadl.engine.fetch.client import Headers, HttpClient, Reply, RequestFailed, host_of
from mediadl.engine.fetch.rate import Sink
from mediadl.engine.fetch.retry import Backoff

__all__ = ["FRESH_START", "Cursor", "Resource", "Sink", "Source", "Transfer", "fetch_small"]

FRESH_START = 16 * 1024
"""Bytes one try must bring for the count of failed tries to start again."""


@dataclass(slots=True, eq=False)
class Cursor:
    """Where a transfer is: next byte wanted and the end (exclusive; ``None``: the resource's)."""

    pos: int
    end: int | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.end is None else max(0, self.end - self.pos)


@dataclass(frozen=True, slots=True)
class Source:
    """A URL with its request headers (fixed, or per URL) and the context its errors carry."""

    url: str
    headers: Headers
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Resource:
    """What the transfers of one resource have learned about it."""

    total: int | None = None
    validator: str | None = None
    url: str | None = None
    """Where the resource really is, after redirects."""


class Transfer:
    """Moves ``cursor`` to its end, feeding ``sink``; raises a ``fetch.*`` error when it can't."""

    def __init__(
        self,
        client: HttpClient,
        source: Source,
        cursor: Cursor,
        sink: Sink,
        *,
        backoff: Backoff,
        resource: Resource | None = None,
        pace: Pace | None = None,
        on_reply: Callable[[Reply], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.source = source
        self.cursor = cursor
        self.sink = sink
        self.backoff = backoff
        self.resource = resource or Resource()
        self.pace = pace
        self.on_reply = on_reply
        """Called with the first good reply, before its body is read (it may move the end)."""
        self.on_end = on_end
        """Called when the cursor reaches its end while the response goes on (it may move the
        end further, to read on rather than close the connection)."""
        self._eof = False

    @property
    def complete(self) -> bool:
        end = self.cursor.end
        return self._eof if end is None else self.cursor.pos >= end

    async def run(self, first: Reply | None = None) -> None:
        """Transfer everything, starting with ``first`` when a reply is already open."""
        failures = 0
        while not self.complete:
            before = self.cursor.pos
            try:
                await self._attempt(first)
            except RequestFailed as failure:
                progressed = self.cursor.pos - before >= FRESH_START and not failure.slow
                failures = 1 if progressed else failures + 1
                if not failure.retryable or failures > self.backoff.retries:
                    raise self.error(failure) from failure
                _announce(failure, failures, self.backoff.retries)
                await self._back_off(failure, failures, progressed)
            first = None

    async def _back_off(self, failure: RequestFailed, failures: int, progressed: bool) -> None:
        """Wait before the next try. A server that pushed back lowers the whole download's level
        (and the process's places at its host) and this request waits for a place under it (and
        for its ``Retry-After``)."""
        wait = failure.retry_after
        places = (
            self.client.pushed_back(self.resource.url or self.source.url)
            if failure.throttled
            else None
        )
        if failure.throttled and self.pace is not None:
            self.pace.throttled(None if wait is None else self.backoff.delay(0, wait), places)
            await self.pace.requeue()
            if wait is not None:
                return  # the pace held every request back that long
        if not progressed or wait is not None:
            await asyncio.sleep(self.backoff.delay(failures - 1, wait))

    async def _attempt(self, first: Reply | None) -> None:
        if first is not None:
            await self.drain(first)
        else:
            await self._request()
        if not self.complete:
            raise RequestFailed(
                errors.FetchIncomplete, retryable=True, detail="the body ended early"
            )

    async def _request(self) -> None:
        pace, sent = self.pace, time.monotonic()
        if pace is not None:
            pace.sent()
        answered = False
        try:
            async with self.client.get(
                self.source.url,
                self.source.headers,
                start=self.cursor.pos,
                end=self.cursor.end,
                if_range=self.resource.validator,
            ) as reply:
                if pace is not None:
                    answered = True
                    pace.answered(time.monotonic() - sent)
                await self.drain(reply)
        finally:
            if pace is not None and not answered:
                pace.answered(None)

    async def drain(self, reply: Reply) -> None:
        """Read ``reply`` into the sink from ``cursor.pos`` up to ``cursor.end``."""
        self.learn(reply)
        if self.on_reply is not None:
            on_reply, self.on_reply = self.on_reply, None
            on_reply(reply)
        cursor = self.cursor
        skip = cursor.pos - reply.offset
        if skip < 0:
            raise RequestFailed(
                errors.FetchFailed,
                retryable=True,
                status=reply.status,
                detail="the server sent another range than asked",
            )
        if cursor.end is None and reply.length is not None:
            cursor.end = reply.offset + reply.length
        if self.pace is not None:
            self.pace.receiving(True, self)
        try:
            await self._read(reply, skip)
        finally:
            if self.pace is not None:
                self.pace.receiving(False, self)

    async def _read(self, reply: Reply, skip: int) -> None:
        cursor = self.cursor
        async for chunk in reply.chunks():
            data = chunk
            if skip:
                if len(data) <= skip:
                    skip -= len(data)
                    continue
                data, skip = data[skip:], 0
            end = cursor.end
            if end is not None and cursor.pos + len(data) >= end and _goes_on(reply, end):
                self._reached_end()
                end = cursor.end
            if end is not None and cursor.pos + len(data) >= end:
                await self._put(data[: end - cursor.pos])
                if not reply.response.content.at_eof():
                    reply.abandon()
                return
            await self._put(data)
        if cursor.end is None:
            self._eof = True

    def _reached_end(self) -> None:
        if self.on_end is not None:
            self.on_end()

    async def _put(self, data: bytes) -> None:
        if not data:
            return
        if self.client.rate is not None:
            await self.client.rate.take(len(data))
        await self.sink(self.cursor.pos, data)
        self.cursor.pos += len(data)
        if self.pace is not None:
            self.pace.add(len(data), self)

    def learn(self, reply: Reply) -> None:
        """Note the resource's size and validator; a change means the file changed under us."""
        known = self.resource
        changed = (
            known.total is not None and reply.total is not None and reply.total != known.total
        ) or (
            known.validator is not None
            and reply.validator is not None
            and reply.validator != known.validator
        )
        if changed:
            raise RequestFailed(
                errors.FetchIncomplete,
                retryable=False,
                status=reply.status,
                detail="the file changed on the server while downloading",
            )
        known.total = known.total if known.total is not None else reply.total
        known.validator = known.validator or reply.validator
        known.url = known.url or str(reply.response.url)

    def error(self, failure: RequestFailed) -> errors.FetchError:
        """The error a person sees for ``failure``, naming host, status and the caller's context."""
        context: dict[str, Any] = {"host": host_of(self.source.url), **self.source.context}
        if failure.status is not None:
            context["status"] = failure.status
        if failure.detail:
            context["detail"] = failure.detail
        part = context.get("fragment")
        message = failure.error.default_message
        if part is not None:
            status = f", HTTP {failure.status}" if failure.status is not None else ""
            message = f"{message} (part {part} of the stream{status})"
        return failure.error(message, **context)


async def fetch_small(
    client: HttpClient, source: Source, *, backoff: Backoff, limit: int
) -> tuple[bytes, str]:
    """A whole small resource (a playlist, a key) and its final URL, with retries."""
    body = bytearray()

    async def sink(offset: int, data: bytes) -> None:
        del body[offset:]
        body.extend(data)
        if len(body) > limit:
            raise errors.ContentInvalid(
                "The site sent a playlist or key far larger than such files are.",
                url=source.url,
                limit=limit,
            )

    resource = Resource()
    await Transfer(client, source, Cursor(0), sink, backoff=backoff, resource=resource).run()
    return bytes(body), resource.url or source.url


def _goes_on(reply: Reply, end: int) -> bool:
    """Whether ``reply`` carries bytes past ``end``."""
    return reply.length is None or reply.offset + reply.length > end


retry_log = logging.getLogger("mediadl.fetch.retry")
"""One INFO record per retry, for a face that shows them (the CLI puts it on the bar)."""


def _announce(failure: RequestFailed, failures: int, retries: int) -> None:
    """``retry 2/4: timed out``: short enough for the end of a progress bar."""
    if failure.status and failure.status >= 400:
        reason = f"HTTP {failure.status}"
    else:
        reason = _REASONS.get(failure.error, "failed")
    retry_log.info("retry %d/%d: %s", failures, retries, reason)


_REASONS: dict[type[errors.FetchError], str] = {
    errors.FetchTimeout: "timed out",
    errors.FetchIncomplete: "cut off",
    errors.FetchRateLimited: "too many requests",
}
