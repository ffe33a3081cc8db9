"""A proxy URL, read and checked once: what the ``proxy`` setting accepts and how it is shown.

At the bottom of the imports (settings validates with it; the engine tunnels with it). Credentials
are kept for the handshake and never shown: :attr:`Proxy.shown` is what logs and errors print.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = ["SCHEMES", "Proxy", "parse_proxy"]

SCHEMES = ("http", "socks4", "socks4a", "socks5", "socks5h")
_REMOTE_DNS = frozenset({"socks4a", "socks5h"})
_DEFAULT_PORTS = {"http": 80, "socks4": 1080, "socks4a": 1080, "socks5": 1080, "socks5h": 1080}


@dataclass(frozen=True)
class Proxy:
    """One proxy URL, parsed; ``no_proxy`` names the hosts that are reached directly."""

    scheme: str
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    no_proxy: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """The proxy as logs and errors show it: no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def remote_dns(self) -> bool:
        """The proxy resolves names (socks5h, socks4a): it is sent the name, not our answer."""
        return self.scheme in _REMOTE_DNS

    def applies(self, host: str) -> bool:
        """Whether a connection to ``host`` goes through the proxy (``no_proxy`` as curl reads
        it: ``*``, a name and its subdomains, an address or a network)."""
        name = host.strip("[]").lower().rstrip(".")
        return not any(_bypasses(entry, name) for entry in self.no_proxy)


def _bypasses(entry: str, name: str) -> bool:
    entry = entry.strip().lower().rstrip(".")
    if not entry:
        return False
    if entry == "*":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        domain = entry.lstrip(".").removeprefix("*.")
        return name == domain or name.endswith("." + domain)
    try:
        return address in ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return False


def parse_proxy(text: str, no_proxy: Sequence[str] = ()) -> Proxy:
    """A proxy URL as a :class:`Proxy`; ``ValueError`` (without the credentials) if it isn't one."""
    try:
        parts = urlsplit(text.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        raise ValueError("the proxy is not a URL (scheme://host:port)") from None
    if scheme == "https":
        raise ValueError(
            "https:// proxies (TLS to the proxy) aren't supported; use http://, socks5:// or "
            "socks5h:// (links to https sites stay encrypted end to end through the tunnel)"
        )
    if scheme not in SCHEMES:
        raise ValueError(
            f"the proxy's scheme {scheme or '(none)'!r} isn't one of http, socks4, socks4a, "
            "socks5, socks5h (write e.g. http://proxy.example:3128)"
        )
    if not host:
        raise ValueError("the proxy URL has no host (write e.g. http://proxy.example:3128)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the proxy URL must be scheme://[user:password@]host:port, nothing more")
    return Proxy(
        scheme=scheme,
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        no_proxy=tuple(no_proxy),
    )
