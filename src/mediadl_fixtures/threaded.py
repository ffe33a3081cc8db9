"""Run a :class:`FixtureSite`, or any aiohttp app of the fixtures, in a background thread (for
sync tests and the CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from .media import ensure_media
from .server import DEFAULT_HOST, FixtureSite


@contextlib.contextmanager
def running_site(host: str = DEFAULT_HOST, port: int = 0, **kwargs: Any) -> Iterator[FixtureSite]:
    """``with running_site() as site: urlopen(site.pages["video"])``.

    Same arguments as :class:`FixtureSite`. The media is generated (or loaded) in the
    calling thread first, so generation errors surface here.
    """
    if kwargs.get("media") is None:
        kwargs["media"] = ensure_media(kwargs.pop("recipe", None), kwargs.pop("cache_dir", None))
    site = FixtureSite(host, port, **kwargs)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(site.start())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)
            return
        finally:
            ready.set()
        loop.run_forever()
        loop.run_until_complete(site.close())

    thread = threading.Thread(target=run, name=f"fixture-site-{site.port}", daemon=True)
    thread.start()
    ready.wait()
    try:
        if failure:
            raise failure[0]
        yield site
    finally:
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@contextlib.contextmanager
def running_app(app: web.Application, host: str, name: str) -> Iterator[int]:
    """``app`` served on ``host`` at a free port (yielded), in a thread called ``name``."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    ready = threading.Event()
    ports: list[int] = []

    async def start() -> None:
        await runner.setup()
        tcp = web.TCPSite(runner, host, 0)
        await tcp.start()
        ports.append(int(runner.addresses[0][1]))

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True, name=name)
    thread.start()
    ready.wait(10)
    try:
        yield ports[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
