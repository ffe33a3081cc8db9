"""The concurrency controller against simulated servers: per-connection and server-wide caps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mediadl.engine.fetch.adaptive import AdaptiveConcurrency

PER_CONNECTION = 2_500_000.0
TICK = 0.01


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def simulate(pace: AdaptiveConcurrency, clock: Clock, rate_of: object, seconds: float) -> int:
    """Keep ``pace.limit`` requests busy; each tick they deliver what the server allows."""
    highest = pace.limit
    assert callable(rate_of)
    while clock.now < seconds:
        while pace.active < pace.limit:
            await pace.acquire()
            pace.sent()
            pace.answered(0.05)
            pace.receiving(True)
        while pace.active > pace.limit:
            pace.receiving(False)
            pace.release()
        per_request = rate_of(pace.active) * TICK / pace.active
        for _ in range(pace.active):
            pace.add(int(per_request))
        clock.now += TICK
        highest = max(highest, pace.limit)
    return highest


async def test_grows_while_each_connection_keeps_its_rate() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: n * PER_CONNECTION, 3.0)
    assert pace.limit == 64


async def test_stays_small_under_a_server_wide_cap() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    highest = await simulate(pace, clock, lambda n: 10_000_000.0, 3.0)
    assert highest <= 4
    assert pace.limit <= 3


async def test_stops_where_the_server_wide_cap_begins() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: min(n, 8) * PER_CONNECTION, 3.0)
    assert 8 <= pace.limit <= 16


async def test_throttling_halves_the_level() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: n * PER_CONNECTION, 1.0)
    before = pace.limit
    pace.throttled()
    assert pace.limit == max(1, before // 2)


async def test_waiters_get_slots_when_the_level_rises() -> None:
    pace = AdaptiveConcurrency(4, initial=1)
    await pace.acquire()
    waiter = asyncio.ensure_future(pace.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    pace.release()
    await asyncio.sleep(0)
    assert waiter.done()  # the freed slot went to it at the loop's next turn
    assert pace.active == 1


class Request:
    def __init__(self, size: int, latency: float) -> None:
        self.left, self.wait = size, latency
        self.receiving = False


async def simulate_requests(
    pace: AdaptiveConcurrency,
    clock: Clock,
    sizes: list[int],
    rate_of: Callable[[int], float],
    *,
    latency: float = 0.05,
    tick: float = 0.002,
    sent: list[float] | None = None,
) -> tuple[int, float]:
    """Requests with a latency before their body, under ``rate_of(receiving)`` per request.

    Returns the highest level reached and when the last request ended; ``sent`` gets the time
    each request went out.
    """
    queue, running, highest = list(sizes), [], pace.limit
    while queue or running:
        while queue and pace.active < pace.limit:
            await pace.acquire()
            pace.sent()
            if sent is not None:
                sent.append(clock.now)
            running.append(Request(queue.pop(0), latency))
        receiving = sum(r.receiving for r in running) or 1
        for request in list(running):
            if not request.receiving:
                request.wait -= tick
                if request.wait <= 0:
                    request.receiving = True
                    pace.answered(latency)
                    pace.receiving(True)
                continue
            got = min(request.left, int(rate_of(receiving) * tick))
            request.left -= got
            pace.add(got)
            if request.left <= 0:
                pace.receiving(False)
                running.remove(request)
                pace.release()
        clock.now += tick
        highest = max(highest, pace.limit)
    return highest, clock.now


def hls_like() -> list[int]:
    """Video segments of 1.8 MB interleaved with audio segments of 32 KB, as a shared pool sees."""
    return [size for _ in range(30) for size in (1_800_000, 32_000)]


async def test_small_segments_beside_large_ones_dont_hide_a_per_connection_cap() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    highest, finished = await simulate_requests(pace, clock, hls_like(), lambda n: PER_CONNECTION)
    assert highest == 64
    # every segment in flight early: about one segment's time (0.72 s) after the ramp
    assert finished < 1.3


async def test_the_first_step_goes_out_as_the_first_answers_come() -> None:
    """Doubling from two is decided before anything is measured: its requests leave when the
    first two are answered, not a window later, and the first window still measures two."""
    clock = Clock()
    pace = AdaptiveConcurrency(16, initial=2, clock=clock)
    sent: list[float] = []
    sizes = [1_800_000] * 40  # each takes 0.72 s at the per-connection rate
    highest, _ = await simulate_requests(
        pace, clock, sizes, lambda n: PER_CONNECTION, latency=0.1, sent=sent
    )
    assert highest == 16
    assert sent[:2] == [0.0, 0.0]
    first_answers = 0.1
    assert first_answers <= sent[2] == sent[3] < first_answers + 0.01  # a tick or two after
    # the doubled level paid in full: every other request is out a latency and a window later
    assert all(t < first_answers + 2 * 0.1 + 0.1 for t in sent[4:16])


async def test_small_segments_beside_large_ones_under_a_server_wide_cap() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    highest, _ = await simulate_requests(pace, clock, hls_like(), lambda n: 10_000_000.0 / n)
    assert highest <= 4


async def test_a_burst_of_429s_halves_the_level_once() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(16, initial=16, clock=clock)
    for _ in range(8):  # eight requests sent at 16 are refused at once
        pace.throttled()
    assert pace.limit == 8
    clock.now += 5.0  # later pushback is news: it halves again
    pace.throttled()
    assert pace.limit == 4


async def test_retry_after_holds_every_new_request_back() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(16, initial=4, clock=clock)
    pace.throttled(retry_after=2.0)
    waiting = asyncio.ensure_future(pace.acquire())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the pace's clock hasn't moved: still paused
    clock.now += 2.0
    await asyncio.wait_for(waiting, 5)
    assert pace.active == 1


async def test_a_step_spoiled_by_a_busy_moment_is_tried_again() -> None:
    """For its first half second the site (or a starved machine) gives no more to more requests;
    after that each connection keeps its rate. One bad look must not hold the level for long."""
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)

    def rate_of(n: int) -> float:
        return 2 * PER_CONNECTION if clock.now < 0.5 else n * PER_CONNECTION

    await simulate(pace, clock, rate_of, 0.5)
    assert pace.limit <= 3  # the first try at 4 didn't pay
    await simulate(pace, clock, rate_of, 4.0)
    assert pace.limit == 64


async def test_pushback_never_leaves_more_than_the_host_now_allows() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(64, initial=2, clock=clock)
    await simulate(pace, clock, lambda n: n * PER_CONNECTION, 1.0)
    pace.throttled(None, 3)
    assert pace.limit == 3
    pace.throttled(None, 2)  # the same burst: no second halving, but the host's ceiling holds
    assert pace.limit == 2


def test_sound_sends_one_at_a_time_while_the_picture_is_no_further_along() -> None:
    pace = AdaptiveConcurrency(16)
    with pace.lane(picture=True, parts=30) as video, pace.lane(picture=False, parts=30) as audio:
        assert not pace.holds_back(audio, 0)  # nothing out: the sound always has a request
        assert pace.holds_back(audio, 1)  # both at 0 % done: the picture's parts go first
        assert not pace.holds_back(video, 15)
        audio.done = 3
        video.done = 2
        assert pace.holds_back(audio, 1)  # the sound is ahead (10 % against 7 %)
        video.done = 4
        assert not pace.holds_back(audio, 1)  # behind: it takes slots as they come
        assert not pace.holds_back(audio, 5)
        video.done = 2
        video.sending = False  # the picture's parts are all out: nothing to give way to
        assert not pace.holds_back(audio, 1)


def test_streams_of_one_kind_share_slots_as_they_ask() -> None:
    pace = AdaptiveConcurrency(16)
    with pace.lane(picture=False, parts=10) as one, pace.lane(picture=False, parts=10) as two:
        assert not pace.holds_back(one, 4)
        assert not pace.holds_back(two, 4)
    with pace.lane(picture=True, parts=10) as one, pace.lane(picture=True, parts=10) as two:
        assert not pace.holds_back(one, 4)
    with pace.lane(picture=False, parts=10) as sound:
        assert not pace.holds_back(sound, 8)  # the picture's lane ended with its stream


class Long:
    """A request that goes on for the whole simulation."""

    def __init__(self, answer: float) -> None:
        self.answer, self.next = answer, -1.0


async def bursty(
    pace: AdaptiveConcurrency, clock: Clock, period_of: Callable[[int], float], seconds: float
) -> list[int]:
    """A large file by ranges: its first request alone until its answer tells the size, then
    as many as the pace allows, each answered 50 ms after it is sent and then receiving 64 KB
    bursts every ``period_of(receiving)`` seconds, all in step (a step's requests start
    together); the levels the pace went through."""
    burst, latency, tick = 65_536, 0.05, 0.0005
    requests: list[Long] = []
    levels = [pace.limit]
    while clock.now < seconds:
        while pace.active < pace.limit:
            if len(requests) == 1 and requests[0].next < 0:
                break  # the size isn't known yet
            await pace.acquire()
            pace.sent()
            requests.append(Long(clock.now + latency))
        receiving = sum(r.next >= 0 for r in requests) or 1
        for request in requests:
            if request.next < 0 and clock.now >= request.answer:
                pace.answered(latency)
                pace.receiving(True, request)
                request.next = clock.now  # the first burst leaves with the answer
            if 0 <= request.next <= clock.now:
                pace.add(burst, request)
                request.next = clock.now + period_of(receiving)
        clock.now += tick
        if pace.limit != levels[-1]:
            levels.append(pace.limit)
    return levels


async def test_bursts_count_by_the_time_they_took() -> None:
    """At 2.5 MB/s a connection gets 64 KB every 26 ms: a 50 ms window holds one or two bursts
    of each request, depending on where its edges fall. Counted as they came, the step from four
    read as 0.7 of proportional and the level went 4 -> 8 -> 16; by their time, it pays in full."""
    clock = Clock()
    pace = AdaptiveConcurrency(16, initial=2, clock=clock)
    levels = await bursty(pace, clock, lambda n: 65_536 / PER_CONNECTION, 1.0)
    assert levels == [2, 4, 16]


async def test_bursts_under_a_server_wide_cap_dont_grow_past_four() -> None:
    clock = Clock()
    pace = AdaptiveConcurrency(16, initial=2, clock=clock)
    levels = await bursty(pace, clock, lambda n: 65_536 * n / 10_000_000.0, 3.0)
    assert max(levels) <= 4
