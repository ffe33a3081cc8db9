"""One JSON error shape on every path, the right statuses, and never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from mediadl.models import Format
from mediadl.service.problems import ServiceError
from mediadl.service.source import Upstream
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

ORIGIN = "https://page.example"


def assert_shape(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "context"}
    assert body["error"]["code"] == code
    assert body["error"]["message"].endswith(".")
    assert "Traceback" not in r.text


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/nowhere", None, 404, "request.not_found"),
        ("DELETE", "/api/v1/resolve", None, 405, "request.method"),
        ("POST", "/api/v1/resolve", {"url": 5}, 422, "request.invalid"),
        ("POST", "/api/v1/resolve", {"url": "not a link"}, 400, "link.invalid"),
        ("POST", "/api/v1/resolve", {"url": "mailto:a@b.c"}, 400, "link.unsupported"),
        ("GET", "/api/v1/tunnel?t=0123456789abcdef", None, 403, "tunnel.invalid"),
        ("GET", "/api/v1/tunnel", None, 422, "request.invalid"),
        ("GET", "/api/v1/thumbnail?t=0123456789abcdef", None, 403, "tunnel.invalid"),
    ],
)
async def test_request_errors(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: object,
    status: int,
    code: str,
) -> None:
    r = await client.request(method, path, json=body, headers={"Origin": ORIGIN})
    assert_shape(r, status, code)
    assert r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/", "GET, HEAD, POST"),
        ("DELETE", "/", "GET, HEAD, POST"),
        ("OPTIONS", "/api/v1/tunnel?t=0123456789abcdef", "GET, HEAD"),
        ("PUT", "/api/v1/tunnel", "GET, HEAD"),
        ("OPTIONS", "/api/v1/resolve", "POST"),
        ("POST", "/healthz", "GET"),
    ],
)
async def test_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    """A path served by several routes names all their methods, not only the first route's."""
    r = await client.request(method, path)
    assert_shape(r, 405, "request.method")
    assert r.headers["allow"] == allow


@pytest.mark.parametrize(
    ("page", "status", "code"),
    [
        ("/pages/nomedia.html", 422, "content.no_media"),
        ("/pages/missing.html", 404, "content.unavailable"),
    ],
)
async def test_content_errors(
    client: httpx.AsyncClient, site: FixtureSite, page: str, status: int, code: str
) -> None:
    r = await client.post("/api/v1/resolve", json={"url": site.url(page)})
    assert_shape(r, status, code)


async def test_audio_from_a_silent_choice_is_422(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    r = await client.post("/api/v1/download", json={"url": site.pages["audio"], "quality": 720})
    assert_shape(r, 422, "format.unavailable")


async def test_a_large_body_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/resolve", json={"url": "x" * 70_000})
    assert_shape(r, 413, "request.too_large")


async def test_the_largest_valid_body_is_not_too_large(client: httpx.AsyncClient) -> None:
    """A link of 4096 characters, every one written as a JSON escape pair (12 bytes): 48 KiB."""
    url = "http://127.0.0.3/"
    url += "\U0001f600" * (4096 - len(url))
    body = json.dumps({"url": url, "filename": "\U0001f600" * 200})
    assert len(body) > 48 * 1024
    r = await client.post(
        "/api/v1/download", content=body, headers={"Content-Type": "application/json"}
    )
    assert_shape(r, 403, "link.forbidden")


async def test_a_bug_is_a_logged_500_without_details(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], httpx.AsyncClient],
    site: FixtureSite,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(fmt: Format, settings: Settings, start: int) -> Upstream:
        raise RuntimeError("secret internals")

    app = make_app(opener=broken)
    async with app.router.lifespan_context(app), client_for(app) as client:
        tunnel = (await client.post("/api/v1/download", json={"url": site.pages["video"]})).json()[
            "tunnel"
        ]
        with caplog.at_level(logging.ERROR, logger="mediadl.service"):
            r = await client.get(tunnel, headers={"Origin": ORIGIN})
    assert_shape(r, 500, "internal")
    assert "secret internals" not in r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert any(
        rec.exc_info and "secret internals" in str(rec.exc_info[1]) for rec in caplog.records
    )


def test_service_errors_join_the_error_tree() -> None:
    from mediadl import errors

    codes = {cls.code for cls in errors.error_classes()}
    assert {"tunnel.invalid", "tunnel.expired", "request.invalid", "auth.missing"} <= codes
    assert issubclass(ServiceError, errors.MediadlError)
