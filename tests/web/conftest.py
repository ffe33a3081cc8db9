"""The web page in a real browser: Playwright for Python driving Debian's Chromium.

One ``mediadl serve`` process per test process and one browser per test module; each test gets
fresh browser contexts (own cookies, locale, viewport, colour scheme) from ``open_page``, which
also checks that the page made no request to anything but the server and logged no script error.
Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from support.server import Server
from support.server import serving as support_serving

CHROMIUM = os.environ.get("MEDIADL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""As root and offline: no sandbox, and nothing that phones home (it would try the internet)."""

OpenPage = Callable[..., Page]

expect.set_options(timeout=15_000)  # two test processes and ffmpeg share two cores


@contextlib.contextmanager
def serving(folder: Path, **settings: str) -> Iterator[Server]:
    """A server with these settings (``rate_limit="2/3 seconds"``) until the block ends."""
    env = {"MEDIADL_RATE_LIMIT": "10000/minute"}  # a test run reads links faster than people
    env |= {f"MEDIADL_{name.upper()}": value for name, value in settings.items()}
    with support_serving(folder, "web", env=env) as running:
        yield running


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("web")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module-scoped on purpose: while Playwright's sync API runs, its event loop counts as
    running in this thread, so no other module's asyncio test may run until it stops."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make system-deps` installs Debian's chromium")
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    folder = Path(request.config.rootpath) / "test-artifacts" / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def open_page(browser: Browser, web_server: Server) -> Iterator[OpenPage]:
    """``open_page(locale="tr-TR", width=360, scheme="dark")``: a page in a fresh context
    (``server=`` another one than the session's)."""
    contexts = []
    origins: list[str] = []
    strangers: list[str] = []
    errors: list[str] = []

    def ours(url: str) -> bool:
        return url.startswith(("data:", "blob:")) or any(url.startswith(o) for o in origins)

    def open_(
        *,
        locale: str = "en-US",
        width: int = 1280,
        height: int = 900,
        scheme: str = "light",
        path: str = "/",
        server: Server = web_server,
        **options: Any,
    ) -> Page:
        origins.append(server.base)
        context = browser.new_context(
            base_url=server.base,
            locale=locale,
            viewport={"width": width, "height": height},
            color_scheme=scheme,  # type: ignore[arg-type]
            accept_downloads=True,
            **options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("request", lambda r: None if ours(r.url) else strangers.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert strangers == [], "the page talked to something other than its server"
    assert errors == [], "the page logged errors"


def _is_error(message: ConsoleMessage) -> bool:
    """A script error; the API's own error answers (which the page shows) are expected."""
    if message.type != "error":
        return False
    return "/api/v1/" not in str(message.location.get("url", ""))
