"""The egress guard's policy: which addresses mediadl may connect to on a stranger's behalf.

Every outbound connection — yt-dlp's (``engine.egress_ytdl``), the fast fetcher's
(``engine.fetch.client``) and the thumbnail proxy's — asks :class:`EgressPolicy` twice:

* :meth:`EgressPolicy.check_url` before a request (and before following a redirect): only
  ``http``/``https``, and a host written as an address in any notation (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``, ``[::ffff:127.0.0.1]``…) is judged as that address;
* :meth:`EgressPolicy.check_peer` on every address a name resolved to, before connecting to it
  (so a DNS answer, a rebinding or a redirect can't lead elsewhere).

An address is refused when it is not a public unicast address — loopback, private (RFC 1918,
IPv6 ULA), shared (100.64/10), link-local (169.254/16 with the cloud metadata address, fe80::/10),
multicast, unspecified or reserved — judging IPv6 forms that carry an IPv4 address (IPv4-mapped,
NAT64, 6to4, Teredo) by the address they carry. ``allow_private`` lets the local ones through
(loopback, private, shared, link-local: a person's own machine and network); ``allow_networks``
lets given networks through whatever they are. Python's own ``is_global`` tables differ between
patch releases, so the ranges are spelled out here.
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from mediadl import errors

__all__ = [
    "ALLOWED_SCHEMES",
    "Category",
    "EgressPolicy",
    "IPAddress",
    "IPNetwork",
    "classify",
    "parse_host_address",
    "parse_ipv4_loose",
    "parse_networks",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
AddrInfo = tuple[Any, ...]
GetAddrInfo = Callable[..., Sequence[AddrInfo]]
"""``socket.getaddrinfo``'s signature: ``(host, port, family, type, ...)``."""

ALLOWED_SCHEMES = frozenset({"http", "https"})


class Category(StrEnum):
    """What kind of address a peer is; everything but ``GLOBAL`` is refused by default."""

    GLOBAL = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"
    RESERVED = "reserved"


LOCAL = frozenset({Category.LOOPBACK, Category.PRIVATE, Category.SHARED, Category.LINK_LOCAL})
"""What ``allow_private`` lets through: this machine and the networks around it."""


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


_TABLE: tuple[tuple[Category, tuple[IPNetwork, ...]], ...] = (
    (Category.UNSPECIFIED, _nets("0.0.0.0/32", "::/128")),
    (Category.LOOPBACK, _nets("127.0.0.0/8", "::1/128")),
    (Category.MULTICAST, _nets("224.0.0.0/4", "ff00::/8")),
    (Category.LINK_LOCAL, _nets("169.254.0.0/16", "fe80::/10")),
    (Category.SHARED, _nets("100.64.0.0/10")),
    (
        Category.PRIVATE,
        _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10",
              "64:ff9b:1::/48"),
    ),
    (
        Category.RESERVED,
        _nets(
            "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
            "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "::/8", "100::/64",
            "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "2002::/16",
        ),
    ),
)  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TEREDO = ipaddress.ip_network("2001::/32")


def classify(ip: IPAddress) -> Category:
    """The category of ``ip``, judging an IPv6 form that carries an IPv4 address by that one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = classify(embedded)
            if inner is not Category.GLOBAL or ip.ipv4_mapped is not None or ip in _NAT64:
                return inner
            return Category.RESERVED  # 6to4 and Teredo to a public address: dead tunnels
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    for category, networks in _TABLE:
        if any(ip in net for net in networks):
            return category
    return Category.GLOBAL if ip.is_global else Category.RESERVED


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _TEREDO and ip.teredo is not None:
        server, client = ip.teredo
        return client if classify(server) is Category.GLOBAL else server
    return None


def parse_ipv4_loose(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any notation ``inet_aton`` (and so ``getaddrinfo``) accepts, or ``None``.

    ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``, ``127.0.1`` are all 127.0.0.1.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _inet_number(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 0xFF for n in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    value = last
    for index, number in enumerate(head):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _inet_number(part: str) -> int | None:
    if not part.isascii():
        return None
    if part[:2].lower() == "0x":
        digits = part[2:]
        ok = all(c in "0123456789abcdefABCDEF" for c in digits)
        return int(digits or "0", 16) if ok else None
    if not part.isdigit():
        return None
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part)


def parse_host_address(host: str) -> IPAddress | None:
    """The address a URL's host stands for without asking DNS, else None: an address in any
    notation, or ``localhost`` and its subdomains (RFC 6761: loopback, whatever DNS says)."""
    text = unicodedata.normalize("NFKC", host).strip().lower().rstrip(".")
    text = text.removeprefix("[").removesuffix("]")
    if text == "localhost" or text.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4_loose(text) if text else None


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (``127.0.0.2/32``, ``fd00::/8``) or addresses; ``ValueError`` names a bad one."""
    out = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a network (CIDR) or an address") from exc
    return tuple(out)


@dataclass(frozen=True)
class EgressPolicy:
    """Where outbound connections may go. Immutable and cheap: build one per settings."""

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_private: bool = False
    getaddrinfo: GetAddrInfo = field(default=socket.getaddrinfo, compare=False)
    """How names are resolved (tests inject a table; production asks the system)."""

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> EgressPolicy:
        networks = parse_networks(str(n) for n in getattr(settings, "allow_networks", ()))
        values: dict[str, Any] = {
            "allow_networks": networks,
            "allow_private": bool(settings.allow_private),
        }
        return cls(**(values | overrides))

    def refusal(self, ip: IPAddress) -> Category | None:
        """Why ``ip`` is refused, or ``None`` when it may be reached."""
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if any(c in net for c in candidates for net in self.allow_networks):
            return None
        category = classify(ip)
        if category is Category.GLOBAL or (self.allow_private and category in LOCAL):
            return None
        return category

    def check_peer(self, address: str | IPAddress, host: str | None = None) -> None:
        """Raise ``LinkForbidden`` unless a connection to ``address`` is allowed."""
        try:
            ip = (
                address
                if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address))
                else ipaddress.ip_address(str(address).split("%", 1)[0])
            )
        except ValueError:
            raise _forbidden(host, "unknown") from None
        category = self.refusal(ip)
        if category is not None:
            raise _forbidden(host or str(ip), category.value)

    def check_url(self, url: str) -> None:
        """Refuse a URL before any connection: a scheme other than http(s), a forbidden literal."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            raise errors.LinkForbidden(detail="malformed URL") from None
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            raise errors.LinkForbidden(
                "Only web links (http:// or https://) can be fetched.", detail="scheme"
            )
        if not host:
            raise errors.LinkForbidden(detail="no host")
        literal = parse_host_address(host)
        if literal is not None:
            self.check_peer(literal, host)

    def resolve(self, host: str, port: int, family: int = 0) -> list[AddrInfo]:
        """``getaddrinfo`` for a TCP connection, every answer checked: one refused refuses all."""
        literal = parse_host_address(host)
        if literal is not None:
            self.check_peer(literal, host)
        answers = list(self.getaddrinfo(host, port, family, socket.SOCK_STREAM))
        if not answers:
            raise OSError(f"no address for {host}")
        for answer in answers:
            self.check_peer(str(answer[4][0]), host)
        return answers


def _forbidden(host: str | None, category: str) -> errors.LinkForbidden:
    """``detail`` (logged, never sent to clients) says which kind of address it was."""
    return errors.LinkForbidden(host=host, detail=f"{category} address")
