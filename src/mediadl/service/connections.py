"""Connections that hold the server's descriptors: bounded per client and in time (uvicorn).

uvicorn closes an idle kept-alive connection (``timeout_keep_alive``) but never one whose
request head is still arriving: a client that sends a few bytes of a head and waits keeps a
descriptor forever, and a few hundred such clients leave none for anyone else. The protocol made
here closes a connection whose request head isn't complete ``head_timeout`` seconds after it
opened or after its previous answer ended, and closes at once a connection past
``per_client`` from one address (an IPv6 /64), unless that address is a trusted proxy (whose
clients it can't tell apart). :func:`raise_descriptor_limit` lifts the soft ``RLIMIT_NOFILE`` to
the hard one, so the limit is the operator's, not the shell's default.
"""

from __future__ import annotations

import asyncio
import ipaddress
import resource
from collections import Counter
from collections.abc import Sequence

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mediadl.engine.egress import IPNetwork
from mediadl.service.clients import subnet_key

__all__ = ["guarded_protocol", "raise_descriptor_limit"]


def guarded_protocol(
    *, head_timeout: float, per_client: int, trusted: Sequence[IPNetwork]
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with a request-head deadline and a per-client cap; each
    call makes a class with its own count of connections (pass it as ``http=``)."""
    open_per_client: Counter[str] = Counter()

    class GuardedProtocol(HttpToolsProtocol):
        _peer: str | None = None
        _heads = 0
        _answers = 0
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = _peer_key(self.client[0] if self.client else None, trusted)
            if peer is not None and open_per_client[peer] >= per_client:
                transport.close()
                return
            if peer is not None:
                self._peer = peer
                open_per_client[peer] += 1
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._peer is not None:
                open_per_client[self._peer] -= 1
                if open_per_client[self._peer] <= 0:
                    del open_per_client[self._peer]
                self._peer = None
            self._disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._heads += 1
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            self._answers += 1
            super().on_response_complete()
            if self._heads == self._answers and not self.transport.is_closing():
                self._arm()  # nothing asked and unanswered: the next head is due in time

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(head_timeout, self._expire, self._heads)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self, heads: int) -> None:
            self._deadline = None
            if self._heads == heads and not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol


def _peer_key(host: str | None, trusted: Sequence[IPNetwork]) -> str | None:
    """The address a connection counts under, or ``None`` (not an IP, or a trusted proxy)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return None
    if any(address in network for network in trusted):
        return None
    return subnet_key(address)


def raise_descriptor_limit() -> tuple[int, int]:
    """Lift the soft limit on open files to the hard one where allowed; the (old, new) soft
    limit. Every connection costs a descriptor: the shell's default (often 1024) is low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= soft:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, hard
