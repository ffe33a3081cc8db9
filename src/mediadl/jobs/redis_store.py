"""Jobs in Redis, where every replica and worker sees them (``MEDIADL_QUEUE=redis://…``).

Keys (prefix ``mediadl:jobs:``): ``doc:<id>`` the record as JSON; ``all`` and ``owner:<digest>``
sorted sets of ids by creation time; ``finished`` ids by when they ended; ``cancel:<id>`` a cancel
request; ``lease:<id>`` the worker holding the job (``worker|site``, expiring after ``job_lease``);
``alive`` and ``site:<host>`` sorted sets of leased ids by lease expiry, which the limits count;
``gen:<id>`` the generation of the job's last lease (its fence), which a fenced save checks in the
script that writes; ``state:<state>`` the ids in each state (the metrics count them,
``state:running`` is where orphans are looked for and ``state:queued`` where lost messages are) and
``workers`` the workers by heartbeat expiry, which the metrics count. Each lease change is one Lua
script, so two workers never both take a job nor pass a limit together; Redis's own clock decides
expiry. The scripts that take a lease, save or ask a cancel do nothing for a job without its
``doc:<id>``: one that comes late after a removal brings back no key of it.
"""

from __future__ import annotations

import json
from typing import Any, cast

import redis

from mediadl.jobs.model import FINAL_STATES, Job, JobState
from mediadl.jobs.store import Claim

__all__ = ["RedisStore"]

P = "mediadl:jobs:"

_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)"

_CLAIM = f"""
{_NOW}
local lease, alive, site, id = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local worker, ttl, limited = ARGV[2], tonumber(ARGV[3]), ARGV[4] == '1'
if redis.call('EXISTS', KEYS[5]) == 0 then return 'held' end
local holder = redis.call('GET', lease)
if holder and string.match(holder, '^[^|]*') ~= worker then return 'held' end
if limited then
  redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', site, '-inf', now)
  local others = redis.call('ZCARD', alive) - (redis.call('ZSCORE', alive, id) and 1 or 0)
  if others >= tonumber(ARGV[5]) then return 'busy' end
  local here = redis.call('ZCARD', site) - (redis.call('ZSCORE', site, id) and 1 or 0)
  if here >= tonumber(ARGV[6]) then return 'busy' end
  redis.call('ZADD', alive, now + ttl, id)
  redis.call('ZADD', site, now + ttl, id)
end
redis.call('SET', lease, worker .. '|' .. ARGV[7], 'PX', ttl)
redis.call('INCR', KEYS[4])
return 'ok'
"""

_FENCE = """
local holder = redis.call('GET', KEYS[1])
if not holder or string.match(holder, '^[^|]*') ~= ARGV[1] then return false end
return tonumber(redis.call('GET', KEYS[2]) or '0')
"""

_SAVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] ~= '' and tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[3]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
else redis.call('ZREM', KEYS[2], ARGV[1]) end
for i = 4, #KEYS do
  if KEYS[i] == ARGV[5] then redis.call('SADD', KEYS[i], ARGV[1])
  else redis.call('SREM', KEYS[i], ARGV[1]) end
end
return 1
"""

_CANCEL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], '1')
return 1
"""

_RENEW = f"""
{_NOW}
local holder = redis.call('GET', KEYS[1])
if not holder or string.match(holder, '^[^|]*') ~= ARGV[2] then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
local site = string.match(holder, '|(.*)$')
redis.call('ZADD', KEYS[2], 'XX', now + ttl, ARGV[1])
redis.call('ZADD', '{P}site:' .. site, 'XX', now + ttl, ARGV[1])
return 1
"""

_RELEASE = f"""
local holder = redis.call('GET', KEYS[1])
if not holder or string.match(holder, '^[^|]*') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', '{P}site:' .. string.match(holder, '|(.*)$'), ARGV[1])
return 1
"""


_BEAT = f"""
{_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""

_ALIVE = f"""
{_NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""

_STATES = [s.value for s in JobState]


class RedisStore:
    def __init__(self, url: str) -> None:
        self._r: Any = redis.Redis.from_url(url, decode_responses=True)
        self._claim = self._r.register_script(_CLAIM)
        self._renew = self._r.register_script(_RENEW)
        self._release = self._r.register_script(_RELEASE)
        self._beat = self._r.register_script(_BEAT)
        self._alive = self._r.register_script(_ALIVE)
        self._fence = self._r.register_script(_FENCE)
        self._save = self._r.register_script(_SAVE)
        self._cancel = self._r.register_script(_CANCEL)

    def add(self, job: Job) -> None:
        with self._r.pipeline() as tx:
            tx.set(f"{P}doc:{job.id}", _dump(job))
            tx.zadd(f"{P}all", {job.id: job.created})
            tx.zadd(f"{P}owner:{job.owner}", {job.id: job.created})
            tx.sadd(f"{P}state:{job.state}", job.id)
            tx.execute()

    def get(self, job_id: str) -> Job | None:
        raw = self._r.get(f"{P}doc:{job_id}")
        return Job.from_json(json.loads(raw)) if raw else None

    def save(self, job: Job, fence: int | None = None) -> bool:
        states = [f"{P}state:{state}" for state in _STATES]
        keys = [f"{P}doc:{job.id}", f"{P}finished", f"{P}gen:{job.id}", *states]
        done = job.state in FINAL_STATES and job.finished is not None
        args = [
            job.id, _dump(job), "" if fence is None else fence,
            repr(job.finished) if done else "", f"{P}state:{job.state}",
        ]  # fmt: skip
        return bool(self._save(keys=keys, args=args))

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        with self._r.pipeline() as tx:
            tx.delete(f"{P}doc:{job_id}", f"{P}cancel:{job_id}", f"{P}gen:{job_id}")
            tx.zrem(f"{P}all", job_id)
            if job is not None:
                tx.zrem(f"{P}owner:{job.owner}", job_id)
            tx.zrem(f"{P}finished", job_id)
            for state in _STATES:
                tx.srem(f"{P}state:{state}", job_id)
            tx.execute()

    def page(
        self, owner: str | None, state: JobState | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        index = f"{P}all" if owner is None else f"{P}owner:{owner}"
        if state is None:
            total = int(self._r.zcard(index))
            ids = self._r.zrevrange(index, offset, offset + limit - 1)
            return self._docs(ids), total
        matching = [j for j in self._docs(self._r.zrevrange(index, 0, -1)) if j.state is state]
        return matching[offset : offset + limit], len(matching)

    def _docs(self, ids: list[str]) -> list[Job]:
        if not ids:
            return []
        raws = self._r.mget([f"{P}doc:{i}" for i in ids])
        return [Job.from_json(json.loads(r)) for r in raws if r]

    def claim(
        self, job_id: str, worker: str, ttl: float, *, site: str, limits: tuple[int, int] | None
    ) -> Claim:
        total, per_site = limits or (0, 0)
        keys = [
            f"{P}lease:{job_id}", f"{P}alive", f"{P}site:{site}", f"{P}gen:{job_id}",
            f"{P}doc:{job_id}",
        ]  # fmt: skip
        args: list[str | int] = [
            job_id, worker, int(ttl * 1000), int(limits is not None), total, per_site, site
        ]  # fmt: skip
        return Claim(self._claim(keys=keys, args=args))

    def renew(self, job_id: str, worker: str, ttl: float) -> bool:
        keys = [f"{P}lease:{job_id}", f"{P}alive"]
        return bool(self._renew(keys=keys, args=[job_id, worker, int(ttl * 1000)]))

    def fence(self, job_id: str, worker: str) -> int | None:
        found = self._fence(keys=[f"{P}lease:{job_id}", f"{P}gen:{job_id}"], args=[worker])
        return None if found is None else int(found)

    def fence_holds(self, job_id: str, fence: int) -> bool:
        return int(self._r.get(f"{P}gen:{job_id}") or 0) == fence

    def release(self, job_id: str, worker: str) -> None:
        self._release(keys=[f"{P}lease:{job_id}", f"{P}alive"], args=[job_id, worker])

    def request_cancel(self, job_id: str) -> None:
        self._cancel(keys=[f"{P}doc:{job_id}", f"{P}cancel:{job_id}"])

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self._r.exists(f"{P}cancel:{job_id}"))

    def clear_cancel(self, job_id: str) -> None:
        self._r.delete(f"{P}cancel:{job_id}")

    def orphans(self) -> list[str]:
        running = sorted(cast("set[str]", self._r.smembers(f"{P}state:{JobState.RUNNING}")))
        if not running:
            return []
        leased = self._r.exists  # one round trip each is fine: few jobs run at once
        return [i for i in running if not leased(f"{P}lease:{i}")]

    def finished_before(self, when: float) -> list[str]:
        return list(self._r.zrangebyscore(f"{P}finished", "-inf", when))

    def state_counts(self) -> dict[str, int]:
        with self._r.pipeline(transaction=False) as tx:
            for state in _STATES:
                tx.scard(f"{P}state:{state}")
            counts = tx.execute()
        return {state: int(n) for state, n in zip(_STATES, counts, strict=True)}

    def beat(self, worker: str, ttl: float) -> None:
        self._beat(keys=[f"{P}workers"], args=[worker, int(ttl * 1000)])

    def workers_alive(self) -> int:
        return int(self._alive(keys=[f"{P}workers"]))

    def queued_idle(self, before: float) -> list[str]:
        queued = sorted(cast("set[str]", self._r.smembers(f"{P}state:{JobState.QUEUED}")))
        idle = [j for j in self._docs(queued) if j.state is JobState.QUEUED and j.updated < before]
        return [j.id for j in idle if not self._r.exists(f"{P}lease:{j.id}")]

    def close(self) -> None:
        self._r.close()


def _dump(job: Job) -> str:
    return json.dumps(job.to_json(), separators=(",", ":"))
