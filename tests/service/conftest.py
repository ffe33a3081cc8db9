"""The service in-process (httpx + ASGITransport, lifespan run) and as real processes."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from mediadl.service import create_app
from mediadl.service.source import Opener
from mediadl.settings import Settings
from support.server import Server, launching
from support.server import start_server as support_start_server

SECRET = "test-secret-0123456789abcdef"
BASE = "http://mediadl.test"
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def with_settings(settings: Settings, **overrides: object) -> Settings:
    """A validated copy of ``settings`` with ``overrides``."""
    return Settings.model_validate({**settings.model_dump(), **overrides})


@pytest.fixture
def service_settings(settings: Settings) -> Settings:
    return with_settings(settings, secret=SECRET, resolve_cache_ttl=60.0)


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(service_settings: Settings) -> AppFactory:
    def make(opener: Opener | None = None, **overrides: object) -> FastAPI:
        return create_app(with_settings(service_settings, **overrides), opener=opener)

    return make


@pytest.fixture
async def app(make_app: AppFactory) -> AsyncIterator[FastAPI]:
    app = make_app()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with open_client(app) as client:
        yield client


def open_client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=BASE, timeout=60)


@pytest.fixture
def client_for() -> Callable[[FastAPI], httpx.AsyncClient]:
    """An in-process client for an app a test made itself (run its lifespan too)."""
    return open_client


# --- real server processes ----------------------------------------------------------------------


def start_server(
    tmp: Path, name: str, *, secret: str | None = SECRET, data: str | None = None, **env: str
) -> Server:
    """``mediadl serve`` on a free port; no ``secret``: the one kept in its data directory."""
    environ = {"MEDIADL_READ_TIMEOUT": "10", **env}
    if secret is not None:
        environ["MEDIADL_SECRET"] = secret
    return support_start_server(tmp, name, env=environ, data=data)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start more servers (``launch("b", secret=...)``); all stopped at the end."""
    with launching(functools.partial(start_server, tmp_path)) as start:
        yield start


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("serve"), "a")
    try:
        yield running
    finally:
        running.stop()
