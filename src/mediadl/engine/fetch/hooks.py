"""aiohttp's private connector hooks the fetcher overrides, and the public ways used without them.

:class:`~mediadl.engine.fetch.connector.GuardedConnector` overrides ``TCPConnector._resolve_host``
(check every address a name stands for before trying one), ``_create_connection`` (a place at the
host's gate per new connection, and the peer it reached checked), ``_release`` (close a kept
connection whose place is wanted, or one idle too many: ``_conns`` counts them, and without it
none is closed for that) and, for the operator's
proxy, ``_wrap_create_connection`` (the tunnel). They are private: a newer aiohttp may rename one
or change its signature, and an override nobody calls any more would silently stop checking
where connections go. So they are declared as one :mod:`~mediadl.engine.internals` internal,
looked at once (:func:`private_hooks`: each there, with the parameters the overrides take), and
when any is missing or changed (or ``disable_internals`` names it) the connector uses public
aiohttp instead, with the same guard:

* the egress check: a literal host is checked before anything (``connect``), a name's addresses
  as the resolver gives them (:class:`CheckingResolver`, aiohttp's public resolver interface),
  and each address again right before its socket connects (``socket_factory``);
* the host's gate: a new connection takes its place when aiohttp announces it
  (``on_connection_create_start``, public tracing) and gives it back when it closes. Only the
  early close of an idle connection whose place is wanted is lost: it closes at the end of its
  keep-alive time instead;
* the proxy: no public way tunnels through it, so a connection the proxy applies to is refused
  (``proxy.failed``) rather than made directly.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from mediadl.engine import internals

__all__ = [
    "HOOKS",
    "CheckingResolver",
    "changed",
    "connecting_host",
    "default_resolver",
    "private_hooks",
]

HOOKS = internals.declare(
    "aiohttp.TCPConnector._resolve_host/_create_connection/_wrap_create_connection/_release",
    "check each address before a connection to it is tried and the peer each new one reached; "
    "a place at the host's gate per connection, given back early when someone waits; the proxy",
    "public aiohttp: a checking resolver and socket factory, the gate through connection "
    "tracing (idle connections close at the end of their keep-alive time), no proxy "
    "(connections it applies to are refused)",
)

_EXPECTED: dict[str, tuple[str, ...]] = {
    "_resolve_host": ("self", "host", "port", "traces"),
    "_create_connection": ("self", "req", "traces", "timeout"),
    "_release": ("self", "key", "protocol", "should_close"),
}
_WRAP_NEEDS = ("addr_infos", "req", "timeout")

connecting_host: ContextVar[str] = ContextVar("mediadl_connecting_host", default="")
"""The host the connector is connecting to in this task (for the checks' messages, the gate)."""


@functools.cache
def changed() -> str | None:
    """What differs from the hooks the overrides expect (``None``: nothing); looked at once,
    the classes don't change (``changed.cache_clear()`` looks again)."""
    for name, params in _EXPECTED.items():
        found = _parameters(name)
        if found != params:
            return f"TCPConnector.{name} is {'missing' if found is None else found}"
    found = _parameters("_wrap_create_connection")
    if found is None or not all(p in found for p in _WRAP_NEEDS):
        return f"TCPConnector._wrap_create_connection is {found or 'missing'}"
    return None


def _parameters(name: str) -> tuple[str, ...] | None:
    hook = getattr(aiohttp.TCPConnector, name, None)
    if hook is None:
        return None
    try:
        return tuple(inspect.signature(hook).parameters)
    except (TypeError, ValueError):
        return None


def private_hooks() -> bool:
    """Whether a new connector may use aiohttp's private hooks (else it goes public)."""
    if not HOOKS.usable():
        return False
    problem = changed()
    if problem is not None:
        HOOKS.fell_back(problem)
        return False
    HOOKS.worked()
    return True


class CheckingResolver(AbstractResolver):
    """A resolver whose every answer passes ``check(address, host)`` before it is used."""

    def __init__(self, inner: AbstractResolver, check: Callable[[str, str], None]) -> None:
        self._inner = inner
        self._check = check

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            self._check(str(answer["host"]), host)
        return answers

    async def close(self) -> None:
        await self._inner.close()


def default_resolver() -> AbstractResolver:
    """aiohttp's own default resolver (what a connector without one uses)."""
    return aiohttp.DefaultResolver()
