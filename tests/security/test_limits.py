"""Rate limits, download slots and client identity, in-process (httpx + ASGI) with small limits.

Rate-limited requests here are links the guard refuses at once (127.0.0.3): they cost the server
almost nothing, yet count like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from mediadl.service import create_app
from mediadl.service.clients import client_address, identify, subnet_key
from mediadl.service.ratelimit import RateLimits
from mediadl.service.slots import MemorySlots, RedisSlots, StreamSlots, stream_slots
from mediadl.settings import Settings
from support.server import free_port

API_KEY = "0b7c1c62-6a46-4bd8-9f3e-2d1e0a3c5f11"
INSIDE = {"url": "http://127.0.0.3:9/"}
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


@pytest.fixture
def limited(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "secret": "limits-secret-0123456789",
            "allow_networks": ["127.0.0.2/32"],
            "rate_limit": "3/minute",
            "rate_limit_keyed": "5/minute",
            "rate_limit_media": "100/minute",
            "api_keys": [API_KEY],
        }
        return Settings(**(values | overrides))

    return make


@asynccontextmanager
async def served(settings: Settings, client: str = "203.0.113.7") -> AsyncIterator[Any]:
    """An in-process app and a way to make clients with any peer address."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):

        def client_from(address: str = client) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 4242))
            return httpx.AsyncClient(transport=transport, base_url="http://mediadl.test")

        yield client_from


async def test_headers_then_429_with_retry_after(limited: Callable[..., Settings]) -> None:
    async with served(limited()) as client_from, client_from() as client:
        answers = [await client.post("/api/v1/resolve", json=INSIDE) for _ in range(4)]
    assert [a.status_code for a in answers] == [403, 403, 403, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate.limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert 0 <= int(refused.headers["RateLimit-Reset"]) <= 60


async def test_cobalt_face_gets_cobalt_429(limited: Callable[..., Settings]) -> None:
    async with served(limited(rate_limit="1/minute")) as client_from, client_from() as client:
        await client.post("/", json=INSIDE, headers=JSON)
        refused = await client.post("/", json=INSIDE, headers=JSON)
    assert refused.status_code == 429
    cobalt_error = {"code": "error.api.rate_exceeded", "context": {"limit": 60}}
    assert refused.json() == {"status": "error", "error": cobalt_error}
    assert "Retry-After" in refused.headers


async def test_health_and_info_are_never_limited(limited: Callable[..., Settings]) -> None:
    async with served(limited(rate_limit="1/minute")) as client_from, client_from() as client:
        await client.post("/api/v1/resolve", json=INSIDE)
        for _ in range(5):
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/api/v1/info")).status_code == 200


async def test_ipv6_clients_are_grouped_by_64(limited: Callable[..., Settings]) -> None:
    settings = limited(rate_limit="2/minute")
    async with served(settings) as client_from:
        async with client_from("2001:db8:1:2::1") as one, client_from("2001:db8:1:2::ffff") as two:
            await one.post("/api/v1/resolve", json=INSIDE)
            await two.post("/api/v1/resolve", json=INSIDE)
            assert (await one.post("/api/v1/resolve", json=INSIDE)).status_code == 429
        async with client_from("2001:db8:1:3::1") as other:
            assert (await other.post("/api/v1/resolve", json=INSIDE)).status_code == 403


async def test_forwarded_for_counts_only_from_trusted_proxies(
    limited: Callable[..., Settings],
) -> None:
    spoof = {"X-Forwarded-For": "198.51.100.1"}
    async with served(limited(rate_limit="1/minute")) as client_from, client_from() as client:
        await client.post("/api/v1/resolve", json=INSIDE, headers=spoof)
        spoof["X-Forwarded-For"] = "198.51.100.2"  # a stranger can't pose as many clients
        assert (await client.post("/api/v1/resolve", json=INSIDE, headers=spoof)).status_code == 429
    trusted = limited(rate_limit="1/minute", trusted_proxies=["10.9.0.0/16"])
    async with served(trusted, "10.9.0.5") as client_from, client_from() as proxy:
        for address in ("198.51.100.1", "198.51.100.2"):
            answer = await proxy.post(
                "/api/v1/resolve", json=INSIDE, headers={"X-Forwarded-For": f"6.6.6.6, {address}"}
            )
            assert answer.status_code == 403
        again = await proxy.post(
            "/api/v1/resolve", json=INSIDE, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert again.status_code == 429


async def test_api_keys_have_their_own_limit(limited: Callable[..., Settings]) -> None:
    keyed = {"Authorization": f"Api-Key {API_KEY}"}
    async with served(limited()) as client_from, client_from() as client:
        for _ in range(3):
            await client.post("/api/v1/resolve", json=INSIDE)
        assert (await client.post("/api/v1/resolve", json=INSIDE)).status_code == 429
        answers = [
            await client.post("/api/v1/resolve", json=INSIDE, headers=keyed) for _ in range(6)
        ]
    assert [a.status_code for a in answers] == [403] * 5 + [429]
    assert answers[0].headers["RateLimit-Limit"] == "5"


def test_client_identity_rules(limited: Callable[..., Settings]) -> None:
    import ipaddress

    def scope(peer: str, forwarded: str | None = None, key: str | None = None) -> Any:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        if key:
            headers.append((b"authorization", f"Api-Key {key}".encode()))
        return {"client": (peer, 1), "headers": headers, "query_string": b""}

    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    assert str(client_address(scope("10.1.1.1", "1.2.3.4, 10.2.2.2"), trusted)) == "1.2.3.4"
    assert str(client_address(scope("9.9.9.9", "1.2.3.4"), trusted)) == "9.9.9.9"
    assert str(client_address(scope("10.1.1.1", "garbage"), trusted)) == "10.1.1.1"
    assert subnet_key(ipaddress.ip_address("2001:db8::1:2:3:4")) == "2001:db8::/64"
    assert subnet_key(ipaddress.ip_address("::ffff:1.2.3.4")) == "1.2.3.4"
    settings = limited()
    assert identify(scope("1.2.3.4", key=API_KEY), settings).keyed
    assert not identify(scope("1.2.3.4", key="0" * 8 + API_KEY[8:]), settings).keyed


# --- download slots ---------------------------------------------------------------------------


def slow_tunnel_app(
    settings: Settings, release: asyncio.Event, slots: StreamSlots | None = None
) -> Any:
    async def tunnel(request: Request) -> PlainTextResponse:
        if "p" not in request.query_params:
            await release.wait()
        return PlainTextResponse("bytes")

    app = Starlette(routes=[Route("/api/v1/tunnel", tunnel)])
    return RateLimits(app, settings=settings, slots=slots)


async def test_streams_per_client_and_in_total(limited: Callable[..., Settings]) -> None:
    settings = limited(max_streams_per_client=1, max_streams=2)
    release = asyncio.Event()
    app = slow_tunnel_app(settings, release)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 1))
        return httpx.AsyncClient(transport=transport, base_url="http://t")

    async with client("1.1.1.1") as a, client("2.2.2.2") as b, client("3.3.3.3") as c:
        first = asyncio.create_task(a.get("/api/v1/tunnel", params={"t": "x"}))
        second = asyncio.create_task(b.get("/api/v1/tunnel", params={"t": "x"}))
        await asyncio.sleep(0.2)
        again = await a.get("/api/v1/tunnel", params={"t": "x"})
        third = await c.get("/api/v1/tunnel", params={"t": "x"})
        probe = await c.get("/api/v1/tunnel", params={"t": "x", "p": "1"})
        release.set()
        assert (await first).status_code == 200 and (await second).status_code == 200
        after = await c.get("/api/v1/tunnel", params={"t": "x"})
    assert (again.status_code, again.json()["error"]["code"]) == (429, "rate.streams")
    assert (third.status_code, third.json()["error"]["code"]) == (503, "server.busy")
    assert "Retry-After" in again.headers and "Retry-After" in third.headers
    assert probe.status_code == 200  # cobalt's probe holds no slot
    assert after.status_code == 200  # slots are given back


async def test_slots_fail_closed_when_their_store_is_gone(
    limited: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """Slots in a Redis nobody answers: no stream is let in unbounded; 503, try again soon."""
    settings = limited()
    lost = RedisSlots(f"redis://127.0.0.1:{free_port()}/0", per_client=1, total=1, ttl=30)
    app = slow_tunnel_app(settings, asyncio.Event(), slots=lost)
    transport = httpx.ASGITransport(app=app, client=("1.1.1.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/api/v1/tunnel", params={"t": "x"})
    await lost.close()
    assert (r.status_code, r.json()["error"]["code"]) == (503, "server.busy")
    assert r.headers["Retry-After"] == "5"
    assert "download slot storage failed" in caplog.text


async def test_slots_are_counted_where_the_rate_limits_are(
    limited: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(stream_slots(limited()), MemorySlots)
    for url in ("redis://127.0.0.1:1/0", "rediss://cache.example:6380/1"):
        shared = stream_slots(limited(rate_limit_storage=url, stream_slot_ttl=9))
        assert isinstance(shared, RedisSlots) and shared.ttl == 9
        await shared.close()
    assert isinstance(stream_slots(limited(rate_limit_storage="memcached://m:11211")), MemorySlots)
    assert "download slots are counted per process" in caplog.text
