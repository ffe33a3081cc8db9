"""Segmented streams (HLS, DASH): a bounded pool fetching ahead, one in-order output.

Each :class:`Part` (an init section, a media segment, or a byte range of one file) is fetched by
its own resilient :class:`Transfer`, as many at once as :class:`AdaptiveConcurrency` allows and at
most ``ahead`` parts past the one the consumer is reading (a stream of sound beside one of
picture shares the slots as :class:`AdaptiveConcurrency` says). Bytes go to the part's slot of an
:class:`InOrder` stream as they arrive (decrypted on the fly for AES-128), so the head part streams
straight through and the others wait in bounded memory or spill to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from mediadl import errors
from mediadl.engine.fetch.adaptive import AdaptiveConcurrency, Lane
from mediadl.engine.fetch.client import HttpClient
from mediadl.engine.fetch.crypto import SegmentDecryptor
from mediadl.engine.fetch.ordering import InOrder
from mediadl.engine.fetch.output import Tally
from mediadl.engine.fetch.retry import Backoff
from mediadl.engine.fetch.transfer import Cursor, Source, Transfer, fetch_small

__all__ = ["KeyRef", "Part", "Segments", "web_link"]

HeadersFor = Callable[[str], Mapping[str, str]]
IDLE_POLL = 0.05
KEY_LIMIT = 1024
WEB_SCHEMES = frozenset({"http", "https"})
_FIRST_SEGMENT = re.compile(r"[^/?#]*")


def web_link(base: str, reference: str) -> str:
    """``reference`` (a segment, key or init section of a manifest) read against ``base``.

    Anything but an ``http``/``https`` link with a host raises ``ContentUnfetchable`` while the
    manifest is read: ``file:``, ``data:``, ``ftp:``, ``crypto+http:``, and ffmpeg's protocol
    syntax (``concat:``, ``subfile,,…:``, whose first segment holds a colon) are never fetched,
    so retrying them would only hold a download slot for nothing.
    """
    text = reference.strip()
    head = _FIRST_SEGMENT.match(text)
    scheme, colon, _ = (head.group() if head else "").partition(":")
    try:
        url = urljoin(base, text)
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise errors.ContentInvalid("A part of the stream has a malformed address.") from None
    if colon and scheme.lower() not in WEB_SCHEMES:
        raise errors.ContentUnfetchable(scheme=scheme[:24])
    if parts.scheme.lower() not in WEB_SCHEMES or not host:
        raise errors.ContentUnfetchable(scheme=parts.scheme[:24] or None)
    return url


@dataclass(frozen=True, slots=True)
class KeyRef:
    """An AES-128 key: where to get it (or the key itself) and the IV of one part."""

    uri: str | None
    iv: bytes
    key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a segmented stream, in output order."""

    url: str
    byte_range: tuple[int, int] | None = None
    """``[start, end)`` within ``url``; ``None``: the whole resource."""
    key: KeyRef | None = None
    label: str = ""
    """How errors name it: ``"init"`` or the segment's number."""


class Segments:
    """Fetches ``parts`` into ``order`` (slot keys ``0..len(parts)``)."""

    def __init__(
        self,
        client: HttpClient,
        parts: Sequence[Part],
        order: InOrder,
        *,
        headers_for: HeadersFor,
        context: Mapping[str, Any],
        pace: AdaptiveConcurrency,
        backoff: Backoff,
        tally: Tally,
        ahead: int,
        before: tuple[int, int] = (0, 0),
        picture: bool = True,
    ) -> None:
        """``before``: parts and bytes of the stream already written (a resumed download), which
        ``tally`` counts too and ``parts`` leaves out; ``picture``: the stream has video."""
        self.client, self.parts, self.order = client, parts, order
        self.headers_for, self.context = headers_for, context
        self.pace, self.backoff, self.tally = pace, backoff, tally
        self.ahead = max(1, ahead)
        self.picture = picture
        self._running: set[asyncio.Task[None]] = set()
        self._keys: dict[str, asyncio.Task[bytes]] = {}
        self._changed = asyncio.Event()
        self._failure: BaseException | None = None
        self._done_parts, self._count = before[0], before[0] + len(parts)
        ranges = [p.byte_range for p in parts]
        exact = sum(r[1] - r[0] for r in ranges if r is not None) + before[1]
        self._exact = exact if all(ranges) else None

    async def run(self) -> None:
        """Fetch every part or raise; nothing is left running on return."""
        self.order.end_at(len(self.parts))
        self._expect_total()
        try:
            with self.pace.lane(picture=self.picture, parts=len(self.parts)) as lane:
                await self._dispatch(lane)
        finally:
            pending = [*self._running, *self._keys.values()]
            for task in pending:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*pending, return_exceptions=True)

    async def _dispatch(self, lane: Lane) -> None:
        for index in range(len(self.parts)):
            while index >= self.order.head_key + self.ahead or self.pace.holds_back(
                lane, len(self._running)
            ):
                await self._idle()
            await self.pace.acquire()
            if self._failure is not None:
                self.pace.release()
                raise self._failure
            task = asyncio.get_running_loop().create_task(self._fetch(index, lane))
            self._running.add(task)
        lane.sending = False
        while self._running:
            await self._idle()

    async def _idle(self) -> None:
        if self._failure is not None:
            raise self._failure
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(IDLE_POLL):
                await self._changed.wait()
        if self._failure is not None:
            raise self._failure

    async def _fetch(self, index: int, lane: Lane) -> None:
        task = asyncio.current_task()
        try:
            await self._fetch_part(index)
            lane.done += 1
        except Exception as exc:  # noqa: BLE001 - handed to the dispatcher, which raises it
            if self._failure is None:
                self._failure = exc
        finally:
            if task is not None:
                self._running.discard(task)
            self.pace.release()
            self._changed.set()

    async def _fetch_part(self, index: int) -> None:
        part = self.parts[index]
        slot = self.order.slot(index)
        decryptor = None
        if part.key is not None:
            decryptor = SegmentDecryptor(await self._key(part.key), part.key.iv)

        async def sink(offset: int, data: bytes) -> None:
            self.tally.add(len(data))
            out = decryptor.update(data) if decryptor is not None else data
            if out:
                await self.order.put(slot, out)

        start, end = part.byte_range or (0, None)
        source = Source(part.url, self.headers_for, {**self.context, "fragment": part.label})
        await Transfer(
            self.client, source, Cursor(start, end), sink, backoff=self.backoff, pace=self.pace
        ).run()
        if decryptor is not None and (tail := decryptor.finalize()):
            await self.order.put(slot, tail)
        self.order.finish(slot, index + 1)
        self._done_parts += 1
        self._expect_total()

    def _expect_total(self) -> None:
        """Exact when every part is a byte range, else extrapolated from the parts so far."""
        if self._exact is not None:
            self.tally.expect(self._exact)
        elif self._done_parts:
            average = self.tally.done / self._done_parts
            self.tally.expect(int(average * self._count), estimate=True)

    async def _key(self, ref: KeyRef) -> bytes:
        if ref.key is not None:
            return ref.key
        if ref.uri is None:
            raise errors.ContentInvalid("The stream is encrypted but names no key.")
        task = self._keys.get(ref.uri)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load_key(ref.uri))
            self._keys[ref.uri] = task
        return await asyncio.shield(task)

    async def _load_key(self, uri: str) -> bytes:
        source = Source(uri, self.headers_for, {**self.context, "fragment": "key"})
        key, _ = await fetch_small(self.client, source, backoff=self.backoff, limit=KEY_LIMIT)
        if len(key) != 16:
            raise errors.ContentInvalid(
                "The stream's decryption key is not a 16-byte AES key.", url=uri
            )
        return key
