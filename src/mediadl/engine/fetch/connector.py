"""The fast fetcher's connectors: the egress guard at the socket, and the operator's proxy.

:class:`GuardedConnector` checks every address a host name stands for before a connection to it
is tried, and the address each new connection reached; :class:`ProxiedConnector` then opens each
connection as a tunnel through the proxy to the checked address (:mod:`mediadl.engine.proxy`).
Both override aiohttp's ``TCPConnector`` hooks (``_resolve_host``, ``_create_connection``,
``_wrap_create_connection``), the ones aiohttp-socks overrides too, and ``_release`` (where a
connection goes back to the pool). They are private: :mod:`~mediadl.engine.fetch.hooks` declares
them as an internal and, when one is missing, changed or disabled, the connector keeps the same
guard through public aiohttp (``GuardedConnector.private`` is then False).

With ``host_limit``, each new connection first takes a place at its host's process-wide
:class:`~mediadl.engine.fetch.hostgate.HostGate` and gives it back when it closes (or, at the
latest, when the connector closes); a connection whose place the gate wants back closes
instead of going back to the pool. With ``keep``, at most that many idle connections per host
stay open for reuse; one given back beyond them is closed (a pool shared by many streams,
:mod:`~mediadl.engine.fetch.pool`).

A kept connection can go bad while it sits idle, and the request that takes it next must not pay
for it. aiohttp (3.14) sometimes re-arms its read timer on a connection after its response is over
and it went back to the pool (a reader draining a body whose end was held back by flow control
resumes reading, and that resume parses the end, releasing the connection, then re-arms
``sock_read``: aio-libs/aiohttp#12953, whose fix misses this case). The timer fires
``read_timeout`` seconds later on the idle connection and leaves its error there, and aiohttp's
pool hands the connection out again, since it only checks that it is open: the next request on it
failed at once with ``fetch.timeout``. So :meth:`GuardedConnector.connect` looks at every kept
connection it hands out and drops one that holds an error or must close (another is taken, or a
new one made). Whether a connection was kept or new is told by aiohttp's public tracing
(:func:`reuse_tracing`, on every session of the fetcher). A kept connection the site closed while
it was idle fails its request instead; the client tries such a GET once more under
:func:`new_connections_only` (see ``client._send``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiohttp

from mediadl import errors
from mediadl.engine.egress import EgressPolicy, parse_host_address
from mediadl.engine.fetch.hooks import (
    CheckingResolver,
    connecting_host,
    default_resolver,
    private_hooks,
)
from mediadl.engine.fetch.hostgate import Place, gate_for
from mediadl.engine.proxy import Proxy, proxy_addresses, tunnel_async

__all__ = [
    "GuardedConnector",
    "PeerCheck",
    "ProxiedConnector",
    "new_connections_only",
    "reuse_tracing",
    "took_kept",
]

PeerCheck = Callable[[str, str], None]
"""``(peer_ip, host)`` of every new connection; raise ``errors.LinkForbidden`` to refuse it."""


_kept: ContextVar[bool | None] = ContextVar("mediadl_kept_connection", default=None)
"""Whether the connection this task's request took last was a kept one (``None``: untraced)."""
_new_only: ContextVar[bool] = ContextVar("mediadl_new_connections_only", default=False)
_pending: ContextVar[Place | None] = ContextVar("mediadl_pending_place", default=None)
"""Without the private hooks: the gate's place taken for the connection being made."""


def reuse_tracing() -> aiohttp.TraceConfig:
    """Tracing that tells the connector (and the request) whether each connection was kept.

    aiohttp awaits these signals inside ``connect`` in the requesting task, so a context
    variable set here is seen by the connector and, after the request, by the client."""
    config = aiohttp.TraceConfig()
    config.on_connection_reuseconn.append(_note_kept)
    config.on_connection_create_start.append(_note_creating)
    config.on_connection_create_end.append(_note_new)
    return config


async def _note_creating(session: aiohttp.ClientSession, _context: object, _params: object) -> None:
    connector = session.connector
    if isinstance(connector, GuardedConnector) and not connector.private:
        _pending.set(await connector._enter(connecting_host.get()))


async def _note_kept(_session: object, _context: object, _params: object) -> None:
    _kept.set(True)


async def _note_new(_session: object, _context: object, _params: object) -> None:
    _kept.set(False)


def took_kept() -> bool:
    """Whether this task's last request went out on a kept connection (as traced)."""
    return bool(_kept.get())


@contextmanager
def new_connections_only() -> Iterator[None]:
    """Requests of this task inside get a new connection: every kept one the pool offers them
    is closed (the site likely closed those it kept as long, as it did the one that failed)."""
    token = _new_only.set(True)
    try:
        yield
    finally:
        _new_only.reset(token)


def _spoiled(protocol: Any) -> bool:
    """A kept connection that must not carry another request: closed, holding an error (a
    timer that fired while it was idle), or marked to close."""
    if protocol is None or not protocol.is_connected():
        return True
    return bool(getattr(protocol, "should_close", False))


class GuardedConnector(aiohttp.TCPConnector):
    """A keep-alive connector that shows every new connection's peer to ``peer_check``."""

    def __init__(
        self,
        peer_check: PeerCheck,
        *,
        host_limit: int | None = None,
        keep: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._peer_check = peer_check
        self.private = private_hooks()
        """Whether aiohttp's private hooks are used (see :mod:`~mediadl.engine.fetch.hooks`)."""
        if not self.private:
            inner = kwargs.get("resolver") or default_resolver()
            kwargs["resolver"] = CheckingResolver(inner, self._peer_check)
            kwargs["socket_factory"] = self._checked_socket
        super().__init__(**kwargs)
        self.host_limit = host_limit
        self.keep = keep
        self._places: set[Place] = set()

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        """A connection for ``req``; a kept one that went bad while idle is closed and another
        taken (see the module's docstring), and none is kept under ``new_connections_only``."""
        host = req.url.host or ""
        if not self.private:
            self._check_literal(host)
        token = connecting_host.set(host)
        try:
            while True:
                connection = await self._connect_once(req, traces, timeout)
                if not _kept.get():
                    return connection  # a new one (or untraced: aiohttp's own check only)
                if not _new_only.get() and not _spoiled(connection.protocol):
                    return connection
                connection.close()
        finally:
            connecting_host.reset(token)

    async def _connect_once(self, req: Any, traces: Any, timeout: Any) -> Any:
        """``super().connect``; without the private hooks, the place the tracing took for a new
        connection goes with it (and back if none came)."""
        _kept.set(None)
        _pending.set(None)
        try:
            connection = await super().connect(req, traces, timeout)
        except BaseException:
            self._leave(_pending.get())
            raise
        place = _pending.get()
        if place is not None:
            self._on_close(connection.protocol, place)
        return connection

    def _check_literal(self, host: str) -> None:
        """A host written as an address (in any notation) is checked as that address."""
        literal = parse_host_address(host)
        if literal is not None:
            self._peer_check(str(literal), host)

    def _checked_socket(self, addr_info: Any) -> socket.socket:
        """Without the private hooks: the address a socket is about to connect to is checked."""
        family, kind, proto, _name, address = addr_info
        self._peer_check(str(address[0]), connecting_host.get() or str(address[0]))
        return socket.socket(family=family, type=kind, proto=proto)

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> Any:
        """Every address ``host`` stands for (literal in any notation, DNS answers, after every
        redirect) is checked before a connection to it is even tried."""
        if not self.private:
            return await super()._resolve_host(host, port, traces=traces)
        self._check_literal(host)
        hosts = await super()._resolve_host(host, port, traces=traces)
        for resolved in hosts:
            self._peer_check(str(resolved["host"]), host)
        return hosts

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        if not self.private:
            return await super()._create_connection(req, traces, timeout)
        place = await self._enter(req.url.host or "")
        try:
            proto = await super()._create_connection(req, traces, timeout)
        except BaseException:
            self._leave(place)
            raise
        peer = proto.transport.get_extra_info("peername") if proto.transport else None
        try:
            self._peer_check(str(peer[0]) if peer else "", req.url.host or "")
        except BaseException:
            proto.close()
            self._leave(place)
            raise
        if place is not None:
            self._on_close(proto, place)
        return proto

    async def _enter(self, host: str) -> Place | None:
        if self.host_limit is None:
            return None
        place = await gate_for(host, self.host_limit).enter()
        self._places.add(place)
        return place

    def _leave(self, place: Place | None) -> None:
        if place is not None:
            self._places.discard(place)
            place.release()

    def _on_close(self, proto: Any, place: Place) -> None:
        closed = proto.closed
        if closed is None:  # already gone
            self._leave(place)
            return

        def done(future: asyncio.Future[None]) -> None:
            if not future.cancelled():
                future.exception()  # seen: a connection lost with an error is no news here
            self._leave(place)

        closed.add_done_callback(done)

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        """A connection whose response is over goes back to the pool, unless its host's gate
        wants the place back (someone waits, or the host now gets fewer) or ``keep`` idle ones to
        its host wait already: then it closes. aiohttp releases a connection here by itself once
        a body has been read to its end, so this is the one place to decide."""
        if not self.private:
            super()._release(key, protocol, should_close=should_close)
            return
        if self.host_limit is not None and not should_close:
            should_close = gate_for(key.host, self.host_limit).wanted
        super()._release(key, protocol, should_close=should_close or self._kept_enough(key))

    def _kept_enough(self, key: Any) -> bool:
        if self.keep is None:
            return False
        idle = getattr(self, "_conns", None)  # aiohttp's idle connections per key
        return isinstance(idle, dict) and len(idle.get(key, ())) >= self.keep

    def release_places(self) -> None:
        """Give back every place still held (the connector is closed: its connections are)."""
        for place in list(self._places):
            self._leave(place)


class ProxiedConnector(GuardedConnector):
    """The guarded connector whose connections tunnel through the operator's proxy.

    The site's name was resolved and every answer checked (``_resolve_host``) before this runs;
    the tunnel goes to the checked address (the name, for socks5h), through the proxy's checked
    address. The peer each connection reached is the proxy, which the policy allows too.
    """

    def __init__(self, peer_check: PeerCheck, proxy: Proxy, policy: EgressPolicy, **kwargs: Any):
        super().__init__(peer_check, **kwargs)
        self._proxy = proxy
        self._policy = policy

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        if not self.private and self._proxy.applies(req.url.raw_host or ""):
            raise errors.ProxyFailed(
                detail="this aiohttp lacks the hook that tunnels through the proxy"
            )
        return await super().connect(req, traces, timeout)

    async def _wrap_create_connection(
        self, *args: Any, addr_infos: list[Any], req: Any, timeout: Any, **kwargs: Any
    ) -> Any:
        host = req.url.raw_host or ""
        if not self.private or not self._proxy.applies(host):
            return await super()._wrap_create_connection(
                *args, addr_infos=addr_infos, req=req, timeout=timeout, **kwargs
            )
        address, port = addr_infos[0][4][0], addr_infos[0][4][1]
        dest = host if self._proxy.remote_dns else str(address)
        kwargs.pop("client_error", None)
        proxies = await asyncio.to_thread(proxy_addresses, self._policy, self._proxy)
        sock = await tunnel_async(self._proxy, proxies[0], dest, port, timeout.sock_connect)
        try:
            return await self._loop.create_connection(*args, **kwargs, sock=sock)
        except BaseException:
            sock.close()
            raise
