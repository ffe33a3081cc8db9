"""The operator's proxy: which links go through it, and the tunnel every such connection takes.

mediadl never hands a proxy to an HTTP library. Each connection to a site is opened by the egress
guard (:func:`mediadl.engine.egress_ytdl.guarded_connect`, the fetcher's connector), which first
resolves the site's name itself and checks every answer, then checks the proxy's own address,
and only then asks the proxy for a tunnel (HTTP ``CONNECT``, SOCKS4 or SOCKS5) to the *checked
address* — so an http or socks5 proxy reaches exactly what the guard allowed. ``socks5h`` (and
``socks4a``) send the name instead and let the proxy resolve it: the guard still checks its own
resolution (a name that doesn't resolve here is not sent at all), but the proxy may get another
answer; an operator who needs the guarantee uses http/socks5, or a proxy that enforces its own
egress rules.

Every link goes through a tunnel, plain ``http://`` ones too (the proxy sees the target's address
and port, not the requests in an https tunnel). A proxy that allows ``CONNECT`` only to port 443
carries only https links.
"""

from __future__ import annotations

import socket
from typing import Any

from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType

from mediadl import errors
from mediadl.engine.egress import EgressPolicy, parse_host_address
from mediadl.proxyurl import Proxy, parse_proxy

__all__ = [
    "Proxy",
    "check_proxy",
    "failure",
    "parse_proxy",
    "proxy_addresses",
    "proxy_of",
    "tunnel",
    "tunnel_async",
]

_TYPES = {
    "http": ProxyType.HTTP,
    "socks4": ProxyType.SOCKS4,
    "socks4a": ProxyType.SOCKS4,
    "socks5": ProxyType.SOCKS5,
    "socks5h": ProxyType.SOCKS5,
}


def proxy_of(settings: Any) -> Proxy | None:
    """The proxy the settings name (``proxy``, ``no_proxy``), or ``None``."""
    text = getattr(settings, "proxy", None)
    if not text:
        return None
    return parse_proxy(text, tuple(getattr(settings, "no_proxy", ()) or ()))


def proxy_addresses(policy: EgressPolicy, proxy: Proxy) -> list[str]:
    """The proxy's addresses, each allowed by the egress policy like any site's.

    A proxy on a local address (a sidecar, a LAN box) is refused unless allowed explicitly:
    otherwise a proxy setting would be a way around the guard to this machine's services.
    """
    try:
        answers = policy.resolve(proxy.host, proxy.port)
    except errors.LinkForbidden as exc:
        kind = str(exc.context.get("detail") or "local address")
        raise errors.ProxyForbidden(
            f"The proxy {proxy.shown} is on a {kind}, which the egress guard refuses. Allow it "
            "explicitly: allow_networks (MEDIADL_ALLOW_NETWORKS) with its address, e.g. "
            f"{_example_network(proxy.host)}, or allow_private.",
            proxy=proxy.shown,
        ) from None
    except (OSError, UnicodeError) as exc:
        raise errors.ProxyFailed(
            f"The proxy {proxy.shown}'s name doesn't resolve ({exc}). Check the proxy setting.",
            proxy=proxy.shown,
        ) from None
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def _example_network(host: str) -> str:
    address = parse_host_address(host)
    if address is None:
        return "10.0.0.5/32"
    return f"{address}/{address.max_prefixlen}"


def check_proxy(settings: Any, policy: EgressPolicy | None = None) -> Proxy | None:
    """The settings' proxy, checked before any request (its address may be reached); ``None``
    without one. Raises :class:`errors.ProxyForbidden` or :class:`errors.ProxyFailed`."""
    proxy = proxy_of(settings)
    if proxy is not None:
        proxy_addresses(policy or EgressPolicy.from_settings(settings), proxy)
    return proxy


def _client_args(proxy: Proxy, address: str) -> dict[str, Any]:
    return {
        "proxy_type": _TYPES[proxy.scheme],
        "host": address,
        "port": proxy.port,
        "username": proxy.username,
        "password": proxy.password,
        "rdns": proxy.remote_dns,
    }


def tunnel(
    proxy: Proxy, address: str, dest: str, port: int, timeout: float | None
) -> socket.socket:
    """A socket to ``dest:port`` through the proxy at ``address`` (its checked address)."""
    from python_socks.sync import Proxy as SyncProxy

    try:
        sock: socket.socket = SyncProxy(**_client_args(proxy, address)).connect(
            dest, port, timeout=timeout
        )
    except (ProxyConnectionError, ProxyTimeoutError, ProxyError) as exc:
        raise failure(proxy, exc) from exc
    sock.settimeout(timeout)
    return sock


async def tunnel_async(
    proxy: Proxy, address: str, dest: str, port: int, timeout: float | None
) -> socket.socket:
    """:func:`tunnel` for asyncio: a connected socket for ``loop.create_connection``."""
    from python_socks.async_.asyncio import Proxy as AsyncProxy

    try:
        return await AsyncProxy(**_client_args(proxy, address)).connect(dest, port, timeout=timeout)
    except (ProxyConnectionError, ProxyTimeoutError, ProxyError) as exc:
        raise failure(proxy, exc) from exc


def failure(proxy: Proxy, exc: BaseException) -> errors.ProxyError:
    """What went wrong with the proxy, for the person: which proxy (no credentials), and why."""
    code = getattr(exc, "error_code", None)
    if code == 407 or "auth" in str(exc).lower():
        return errors.ProxyAuth(proxy=proxy.shown, detail=str(exc)[:200])
    check = "Check that it runs and that the proxy setting is right."
    if isinstance(exc, ProxyConnectionError):
        why = "can't be reached (nothing answers at its address and port)"
    elif isinstance(exc, (ProxyTimeoutError, TimeoutError)):
        why = "didn't answer in time"
    elif code in _UNREACHABLE:
        why = f"couldn't reach the site ({str(exc)[:160]})"
        check = "The site may be down, or out of the proxy's reach: try again later."
    else:
        why = f"refused the connection ({str(exc)[:160]})"
    return errors.ProxyFailed(f"The proxy {proxy.shown} {why}. {check}", proxy=proxy.shown)


_UNREACHABLE = frozenset({502, 504, 3, 4, 5, 6})
"""HTTP 502/504 to CONNECT; SOCKS5 replies network/host unreachable, refused, TTL expired."""
