"""``GET /metrics``: scraped with prometheus-client's own parser after real traffic through a real
``mediadl serve`` (a tunnel from the fixture site, a resolve, an error), and who may read it."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from mediadl_fixtures.server import FixtureSite
from support.server import Server

KEY = "k" * 8 + "0123456789abcdef"
AppFactory = Callable[..., FastAPI]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(server: Server) -> Samples:
    answer = httpx.get(f"{server.base}/metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests(samples: Samples, route: str, method: str, status: int) -> float:
    labels = {"route": route, "method": method, "status": str(status)}
    return value(samples, "mediadl_http_requests_total", **labels)


@pytest.mark.slow
def test_counters_follow_real_traffic(launch: Callable[..., Server], site: FixtureSite) -> None:
    server = launch(
        "metrics", MEDIADL_METRICS="true", MEDIADL_METRICS_OPEN="true", MEDIADL_LOG_FORMAT="json"
    )
    before = scrape(server)
    source = site.media["progressive"].read_bytes()

    resolved = httpx.post(
        f"{server.base}/api/v1/resolve", json={"url": site.pages["video"]}, timeout=60
    )
    assert resolved.status_code == 200, resolved.text
    missing = httpx.post(
        f"{server.base}/api/v1/resolve", json={"url": site.url("/pages/missing.html")}, timeout=60
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "content.unavailable")
    answer = httpx.post(
        f"{server.base}/api/v1/download", json={"url": site.pages["video"]}, timeout=60
    )
    assert answer.json()["mode"] == "passthrough"
    pulled = httpx.get(answer.json()["tunnel"], timeout=60)
    assert pulled.content == source
    assert httpx.get(f"{server.base}/no/such/page", timeout=30).status_code == 404

    after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert requests(after, "/api/v1/resolve", "POST", 200) == 1
    assert requests(after, "/api/v1/resolve", "POST", 404) == 1
    assert requests(after, "/api/v1/download", "POST", 200) == 1
    assert requests(after, "/api/v1/tunnel", "GET", 200) == 1
    assert requests(after, "unmatched", "GET", 404) == 1
    assert not any("/no/such" in str(labels) for _, labels in after)  # templates, not paths
    assert moved("mediadl_streamed_bytes_total") == len(source)
    assert value(after, "mediadl_tunnels_open") == 0
    # the download and its tunnel read the link from the cache the resolve filled
    assert moved("mediadl_extractions_total", outcome="ok") == 1
    assert moved("mediadl_extractions_total", outcome="content.unavailable") == 1
    assert moved("mediadl_extraction_seconds_count") == 2
    assert value(after, "mediadl_extraction_seconds_bucket", le="+Inf") == 2
    assert moved("mediadl_extraction_seconds_sum") > 0
    assert ("mediadl_jobs", (("state", "queued"),)) not in after  # jobs are off here

    # the same traffic in the JSON log: one object per line; the tunnel's token stays out
    lines = [json.loads(line) for line in server.log.read_text().splitlines()]
    rid = pulled.headers["x-request-id"]
    [tunnel] = [r for r in lines if r["request_id"] == rid and r["logger"] == "uvicorn.access"]
    assert (tunnel["method"], tunnel["status"]) == ("GET", 200)
    assert tunnel["path"].startswith("/api/v1/tunnel?")
    token = parse_qs(urlsplit(answer.json()["tunnel"]).query)["t"][0]
    assert token not in json.dumps(lines)


@pytest.mark.slow
def test_a_tunnel_counts_as_open_while_it_sends(
    launch: Callable[..., Server], site: FixtureSite
) -> None:
    server = launch("open", MEDIADL_METRICS="true", MEDIADL_METRICS_OPEN="true")
    source = site.media["progressive"].read_bytes()
    slow = site.url("video", total_rate=len(source) // 4)
    answer = httpx.post(f"{server.base}/api/v1/download", json={"url": slow}, timeout=60)
    assert answer.status_code == 200, answer.text
    with httpx.stream("GET", answer.json()["tunnel"], timeout=60) as stream:
        chunks = stream.iter_bytes()
        first = next(chunks)
        assert value(scrape(server), "mediadl_tunnels_open") == 1
        received = len(first) + sum(len(c) for c in chunks)
    assert received == len(source)
    after = scrape(server)
    assert value(after, "mediadl_tunnels_open") == 0
    assert value(after, "mediadl_streamed_bytes_total") == len(source)


async def test_off_by_default_is_a_plain_not_found(
    make_app: AppFactory, client_for: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    app = make_app()
    async with app.router.lifespan_context(app), client_for(app) as client:
        answer = await client.get("/metrics")
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "request.not_found")


async def test_protected_metrics_want_their_own_key(
    make_app: AppFactory, client_for: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    api_key = "6c6b6d1e-6a55-4b0a-9f2e-1d5d2d0b6f11"
    app = make_app(metrics=True, metrics_key=KEY, api_keys=[api_key])
    async with app.router.lifespan_context(app), client_for(app) as client:
        refused = [
            await client.get("/metrics"),
            await client.get("/metrics", headers={"Authorization": f"Bearer {KEY}x"}),
            await client.get("/metrics", headers={"Authorization": f"Api-Key {api_key}"}),
            await client.get("/metrics", headers={"Authorization": f"Basic {KEY}"}),
        ]
        bearer = await client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})
        api = await client.get("/metrics", headers={"Authorization": f"Api-Key {KEY}"})
    for answer in refused:
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "auth.metrics")
        assert "MEDIADL_METRICS_KEY" in answer.json()["error"]["message"]
    assert bearer.status_code == api.status_code == 200
    # the refusals were counted like any answer, under the route's template
    assert requests(parse(api.text), "/metrics", "GET", 401) == 4


async def test_on_without_a_key_refuses_every_scrape(
    make_app: AppFactory, client_for: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    app = make_app(metrics=True)
    async with app.router.lifespan_context(app), client_for(app) as client:
        answer = await client.get("/metrics", headers={"Authorization": "Bearer anything-at-all"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "auth.metrics")


async def test_scrapes_are_not_rate_limited(
    make_app: AppFactory, client_for: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    app = make_app(
        metrics=True, metrics_open=True, rate_limit="1/minute", rate_limit_media="1/minute"
    )
    async with app.router.lifespan_context(app), client_for(app) as client:
        answers = [await client.get("/metrics") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert "ratelimit-limit" not in answers[-1].headers
    assert requests(parse(answers[-1].text), "/metrics", "GET", 200) == 4


def test_a_short_metrics_key_is_refused() -> None:
    from mediadl.settings import Settings

    with pytest.raises(ValueError, match="at least 16 characters"):
        Settings(metrics_key="short")
