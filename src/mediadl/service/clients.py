"""Who a request comes from, for rate limits and download slots.

The client is the peer of the connection, unless that peer is one of ``trusted_proxies``: then
``X-Forwarded-For`` is read from the right, skipping trusted proxies, and the first address that
isn't one is the client (what a client writes further left can't be trusted). IPv6 clients are
grouped by their /64 (one subscriber gets a whole /64 and can pick any address in it). A request
with a valid API key is counted by its key instead.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import Scope

from mediadl.engine.egress import IPAddress, IPNetwork, parse_networks
from mediadl.service.auth import KeyCheck, check_key
from mediadl.settings import Settings

__all__ = ["ClientId", "client_address", "identify", "subnet_key"]

IPV6_GROUP = 64


@dataclass(frozen=True, slots=True)
class ClientId:
    """A stable, opaque name of one client: ``ip:<addr-or-/64>`` or ``key:<digest>``."""

    name: str
    keyed: bool = False


def client_address(scope: Scope, trusted: Sequence[IPNetwork]) -> IPAddress | None:
    """The client's address, believing ``X-Forwarded-For`` only from ``trusted`` peers."""
    peer = _address((scope.get("client") or ("",))[0])
    if peer is None or not _within(peer, trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers") or ():
        if name.lower() == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    for hop in reversed(forwarded):
        address = _address(hop)
        if address is None:
            return peer  # garbage in the chain: count the proxy itself, not a made-up client
        if not _within(address, trusted):
            return address
        peer = address
    return peer


def subnet_key(address: IPAddress) -> str:
    """IPv4: the address; IPv6: its /64 (an IPv4-mapped address counts as the IPv4 one)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network(
            (int(address) >> (128 - IPV6_GROUP) << (128 - IPV6_GROUP), IPV6_GROUP)
        )
        return str(network)
    return str(address)


def identify(scope: Scope, settings: Settings) -> ClientId:
    """The name a request's limits are counted under."""
    key = _api_key(scope)
    if key is not None and check_key(settings, f"Api-Key {key}") is KeyCheck.OK:
        return ClientId("key:" + hashlib.sha256(key.lower().encode()).hexdigest()[:24], keyed=True)
    address = client_address(scope, _networks(tuple(settings.trusted_proxies)))
    return ClientId("ip:" + (subnet_key(address) if address is not None else "unknown"))


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(values)


def _api_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if scheme.lower() == "api-key" else None
    raw: bytes = scope.get("query_string") or b""
    if b"key" not in raw and b"%" not in raw:  # no ``key`` however written: skip the parse
        return None  # (a tunnel's query is a long token)
    query = parse_qs(raw.decode("latin-1"))
    keys = query.get("key")
    return keys[0] if keys else None


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().removeprefix("[").split("]", 1)[0].split("%")[0])
    except ValueError:
        return None


def _within(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        candidates.append(address.ipv4_mapped)
    return any(c in net for c in candidates for net in networks)
