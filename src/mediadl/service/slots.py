"""Download slots: how many tunnels stream at once, per client and in all.

An open tunnel holds one slot until its last byte: ``max_streams_per_client`` per client
(``rate.streams``, 429) and ``max_streams`` in all (``server.busy``, 503). One interface, two
stores:

- :class:`MemorySlots` counts in this process, for a server on its own (``memory://``).
- :class:`RedisSlots` counts in Redis when ``rate_limit_storage`` is a ``redis://`` or
  ``rediss://`` URL, so the limits hold across every replica sharing it. Each client has a sorted
  set and all slots are in one more; a member is a slot's random id, its score the time (Redis'
  own clock, so replicas' clocks don't matter) at which the slot lapses. Taking a slot is one Lua
  script, atomic on the server: drop the lapsed members of both sets, refuse if either is full,
  else add the slot to both. While the stream runs a heartbeat pushes its time forward every
  third of ``stream_slot_ttl``; the end of the stream removes it. A replica that dies takes no
  slot with it: its slots lapse ``stream_slot_ttl`` seconds after their last heartbeat. A slot
  that lapsed while its replica couldn't reach Redis is added back by the next heartbeat that
  gets through (its stream still runs), so for a moment the count may exceed the limit.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from abc import ABC, abstractmethod
from collections import Counter

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mediadl import errors
from mediadl.settings import Settings

__all__ = ["MemorySlots", "RedisSlots", "Slot", "StreamSlots", "stream_slots"]

log = logging.getLogger("mediadl.service.slots")

KEY_PREFIX = "{mediadl:streams}"
"""Prefix of the Redis keys; the braces make it a hash tag, so that the keys one script touches
would live on one node of a clustered database."""

_NOW_MS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""
_ACQUIRE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 2 end
local lapse = now + tonumber(ARGV[4])
for _, key in ipairs(KEYS) do
    redis.call('ZADD', key, lapse, ARGV[1])
    redis.call('PEXPIRE', key, ARGV[4])
end
return 0
"""
)
"""KEYS: all slots, the client's slots; ARGV: slot id, per-client limit, total, ttl (ms).
0: taken; 1: the client has its share (429); 2: the server is full (503)."""
_REFRESH = (
    _NOW_MS
    + """
for _, key in ipairs(KEYS) do
    redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
    redis.call('PEXPIRE', key, ARGV[2])
end
return 0
"""
)
"""KEYS as for _ACQUIRE; ARGV: slot id, ttl (ms). A slot that lapsed while Redis was out of
reach is added back: its stream still runs."""


class Slot(ABC):
    """One stream's slot; ``release`` gives it back (once, whatever happens meanwhile)."""

    @abstractmethod
    async def release(self) -> None: ...


class StreamSlots(ABC):
    """At most ``per_client`` streams per client and ``total`` in all."""

    def __init__(self, *, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total

    @abstractmethod
    async def acquire(self, client: str) -> Slot:
        """A slot for one stream of ``client``, or ``TooManyStreams`` (the client's share is
        taken) or ``ServerBusy`` (every slot is); the store's own errors pass through."""

    @abstractmethod
    async def close(self) -> None:
        """Let go of the store."""


class MemorySlots(StreamSlots):
    """Slots counted in this process: the limits hold for one server process."""

    def __init__(self, *, per_client: int, total: int) -> None:
        super().__init__(per_client=per_client, total=total)
        self._held: Counter[str] = Counter()

    async def acquire(self, client: str) -> Slot:
        if self._held[client] >= self.per_client:
            raise errors.TooManyStreams(limit=self.per_client)
        if self._held.total() >= self.total:
            raise errors.ServerBusy()
        self._held[client] += 1
        return _MemorySlot(self._held, client)

    async def close(self) -> None:
        self._held.clear()


class _MemorySlot(Slot):
    def __init__(self, held: Counter[str], client: str) -> None:
        self._held: Counter[str] | None = held
        self._client = client

    async def release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        held[self._client] -= 1
        if held[self._client] <= 0:
            del held[self._client]


class RedisSlots(StreamSlots):
    """Slots counted in Redis, shared by every replica that uses the same database."""

    def __init__(self, url: str, *, per_client: int, total: int, ttl: float) -> None:
        super().__init__(per_client=per_client, total=total)
        self.ttl = ttl
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._refresh = self._redis.register_script(_REFRESH)

    def keys(self, client: str) -> list[str]:
        """The set of all slots and the set of ``client``'s."""
        return [f"{KEY_PREFIX}:all", f"{KEY_PREFIX}:client:{client}"]

    async def acquire(self, client: str) -> Slot:
        slot_id = secrets.token_hex(12)
        keys = self.keys(client)
        verdict = await self._acquire(
            keys=keys, args=[slot_id, self.per_client, self.total, self._ttl_ms]
        )
        if verdict == 1:
            raise errors.TooManyStreams(limit=self.per_client)
        if verdict == 2:
            raise errors.ServerBusy()
        return _RedisSlot(self, slot_id, keys)

    async def close(self) -> None:
        await self._redis.aclose()

    @property
    def _ttl_ms(self) -> int:
        return max(1, round(self.ttl * 1000))

    async def _beat(self, slot_id: str, keys: list[str], done: asyncio.Event) -> None:
        """Keep a slot from lapsing until ``done``; an unreachable Redis is only logged (the slot
        lapses meanwhile and comes back with the next beat that gets through). A refresh under
        way is finished, not cut: the slot's removal must come after it, not race it."""
        while True:
            try:
                await asyncio.wait_for(done.wait(), timeout=self.ttl / 3)
            except TimeoutError:
                pass
            else:
                return
            try:
                await self._refresh(keys=keys, args=[slot_id, self._ttl_ms])
            except (RedisError, OSError) as exc:
                log.warning("download slot heartbeat failed: %s", exc)

    async def _remove(self, slot_id: str, keys: list[str]) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.zrem(key, slot_id)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("download slot not given back, it lapses in %.0f s: %s", self.ttl, exc)


class _RedisSlot(Slot):
    def __init__(self, slots: RedisSlots, slot_id: str, keys: list[str]) -> None:
        self._slots = slots
        self._id = slot_id
        self._keys = keys
        self._done = asyncio.Event()
        self._heartbeat = asyncio.create_task(slots._beat(slot_id, keys, self._done))

    async def release(self) -> None:
        if self._done.is_set():
            return
        self._done.set()
        await asyncio.gather(self._heartbeat, return_exceptions=True)
        await self._slots._remove(self._id, self._keys)


def stream_slots(settings: Settings) -> StreamSlots:
    """Slots in Redis when the rate-limit counters are (``redis://``, ``rediss://``), else here."""
    per_client, total = settings.max_streams_per_client, settings.max_streams
    scheme = settings.rate_limit_storage.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss"):
        return RedisSlots(
            settings.rate_limit_storage,
            per_client=per_client,
            total=total,
            ttl=settings.stream_slot_ttl,
        )
    if scheme != "memory":
        log.warning("download slots are counted per process: %s:// is not a Redis URL", scheme)
    return MemorySlots(per_client=per_client, total=total)
