"""Links pasted without a scheme (``host:port/path``): https:// where it answers, else http://.

Browsers do the same. A TLS handshake tells, quickly: a plain HTTP server never answers one (it
waits for a request line), so the handshake gets :data:`TLS_PROBE_SECONDS`, not the read timeout
of a download. A certificate that doesn't verify is an https site all the same (its error comes
from reading the link, as it would with https:// written out). Every address is the egress
guard's to allow first; through a proxy nothing can be probed, and https:// is kept.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from mediadl import errors
from mediadl.engine.egress import EgressPolicy
from mediadl.engine.extract import normalize_url
from mediadl.settings import Settings

__all__ = ["TLS_PROBE_SECONDS", "has_scheme", "with_scheme"]

TLS_PROBE_SECONDS = 4.0
"""Longest wait for a TLS handshake before a link without a scheme is tried as http://."""


def has_scheme(link: str) -> bool:
    return "://" in link or link.strip().lower().startswith(("http:", "https:"))


def with_scheme(link: str, settings: Settings) -> str:
    """``link`` with https:// when its host speaks TLS, else http:// when it answers at all.

    A link that has a scheme is returned as it is. ``fetch.failed`` names both tries when
    neither answers; ``link.forbidden`` when the egress guard refuses the host.
    """
    if has_scheme(link):
        return link
    secure = normalize_url(link)
    if settings.proxy:
        return secure
    parts = urlsplit(secure)
    host = parts.hostname or ""
    policy = EgressPolicy.from_settings(settings)
    timeout = min(settings.connect_timeout, TLS_PROBE_SECONDS)
    https_problem = _tls_problem(policy, host, parts.port or 443, timeout)
    if https_problem is None:
        return secure
    plain = "http://" + secure.removeprefix("https://")
    http_problem = _tcp_problem(policy, host, parts.port or 80, settings.connect_timeout)
    if http_problem is None:
        return plain
    raise errors.FetchFailed(
        f"Couldn't reach {parts.netloc}: tried https:// ({https_problem}) and http:// "
        f"({http_problem}). Check the address and port.",
        host=host,
    )


def _tls_problem(policy: EgressPolicy, host: str, port: int, timeout: float) -> str | None:
    """Why a TLS handshake with ``host`` fails, or ``None`` when it speaks TLS."""
    context = ssl.create_default_context()
    try:
        with _connect(policy, host, port, timeout) as raw:
            raw.settimeout(timeout)
            with context.wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError:
        return None
    except TimeoutError:
        return "no TLS answer"
    except ssl.SSLError:
        return "no TLS"
    except OSError as exc:
        return _reason(exc)


def _tcp_problem(policy: EgressPolicy, host: str, port: int, timeout: float) -> str | None:
    try:
        with _connect(policy, host, port, timeout):
            return None
    except OSError as exc:
        return _reason(exc)


def _connect(policy: EgressPolicy, host: str, port: int, timeout: float) -> socket.socket:
    """A connection to the first allowed address of ``host`` that takes one."""
    failure: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _name, address in policy.resolve(host, port):
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        return sock
    raise failure


def _reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    return exc.strerror or type(exc).__name__
