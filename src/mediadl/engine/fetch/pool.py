"""One keep-alive connection pool shared by many streams of one process (a server's tunnels).

Each download has its own :class:`~mediadl.engine.fetch.client.HttpClient` pool, so a server
that streams a thousand small files opens a thousand sets of connections to the same site, one
TCP handshake (and TLS one) each, and throws them away. A :class:`SharedPool` lets every
stream's client borrow its connections from one pool instead: a connection a finished request
gives back is reused by the next request to the same host, as a reverse proxy keeps its
upstream connections alive.

Why it can't deadlock: the pool makes no request wait for a connection. It caps nothing
(each stream's own pace caps its requests); it only bounds how many *idle* connections it keeps
per host (``idle_per_host``): one given back beyond that is closed, so a burst leaves at most
that many open to the site once it is over. Streams that wait on each other (the video and
audio of one remux, read by one ffmpeg) never wait for a place here.

Why every byte still passes the egress guard: the pool's connector is the fast fetcher's own
(:func:`~mediadl.engine.fetch.client.guarded_connector`, with ``keep``), built from the same
settings as the clients that borrow it, so every new connection's addresses are checked before
it is tried and its peer after. A reused connection is one of those, kept under its host name
and port (aiohttp never hands a connection to another host): a later request reaches the
address that was checked, whatever the name resolves to meanwhile.

Why a connection kept long is safe to reuse: the connector hands out no kept connection that
went bad while idle (one aiohttp left an error on, or one the site closed: the GET then goes
again on a new connection), see :mod:`~mediadl.engine.fetch.connector`.

A pool belongs to one event loop (aiohttp's sessions do); a client on another loop gets no
session from it and makes its own.
"""

from __future__ import annotations

import asyncio

import aiohttp

from mediadl.engine.fetch.client import guarded_connector, new_session
from mediadl.settings import Settings

__all__ = ["SharedPool"]


class SharedPool:
    """``pool.session()`` on the pool's loop; ``await pool.aclose()`` once, at the end."""

    def __init__(self, settings: Settings, *, idle_per_host: int | None = None) -> None:
        self.settings = settings
        self.idle_per_host = idle_per_host or settings.host_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession | None:
        """The shared session (made on first use), or ``None`` on another loop than the pool's
        or once the pool is closed."""
        loop = asyncio.get_running_loop()
        if self._session is None and self._loop is None:
            connector = guarded_connector(self.settings, keep=self.idle_per_host)
            self._session, self._loop = new_session(self.settings, connector), loop
        return self._session if self._loop is loop else None

    @property
    def connector(self) -> aiohttp.BaseConnector | None:
        return self._session.connector if self._session is not None else None

    async def aclose(self) -> None:
        """Close every connection the pool keeps; it gives out no session afterwards."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._loop = self._loop or asyncio.get_running_loop()
