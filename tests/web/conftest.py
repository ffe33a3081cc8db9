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
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

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

FIXTURE_NETWORK = "127.0.0.2/32"
"""The fixture site's address (tests/conftest.py): the one private address the server may reach."""

OpenPage = Callable[..., Page]

expect.set_options(timeout=15_000)  # two test processes and ffmpeg share two cores


class Server:
    """``mediadl serve`` as a process on a free port (like tests/service/conftest.py's; the two
    can become one shared fixture once it lives in tests/conftest.py)."""

    def __init__(self, folder: Path, **settings: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.base = f"http://127.0.0.1:{port}"
        self.log = folder / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
        env["MEDIADL_DATA_DIR"] = str(folder / "data")
        env["MEDIADL_RATE_LIMIT"] = "10000/minute"  # a test run reads links faster than people
        env |= {f"MEDIADL_{name.upper()}": value for name, value in settings.items()}
        command = [sys.executable, "-m", "mediadl", "serve", "--port", str(port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, "--allow-network", FIXTURE_NETWORK],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).json().get("warm"):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server didn't start: {self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def serving(folder: Path, **settings: str) -> Iterator[Server]:
    """A server with these settings (``rate_limit="2/3 seconds"``) until the block ends."""
    running = Server(folder, **settings)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


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
