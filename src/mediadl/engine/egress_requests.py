"""The egress guard in yt-dlp's requests/urllib3 handler (imported only when both are installed).

Same rules as the urllib path (see :mod:`mediadl.engine.egress_ytdl`): urllib3's connections are
opened by :func:`~mediadl.engine.egress_ytdl.guarded_connect` (resolve, check every address, then
connect), every request and redirect target is checked first, and bodies count against the
guard's limits. Connection pools are per handler, so a kept-alive connection was checked when it
was opened, for the host it was opened for.
"""

from __future__ import annotations

from typing import Any

import urllib3
from requests.structures import CaseInsensitiveDict
from yt_dlp.networking._requests import RequestsHTTPAdapter, RequestsRH, RequestsSession

from mediadl import errors
from mediadl.engine.egress_ytdl import (
    Guard,
    GuardedRequests,
    GuardRefusal,
    guarded_connect,
    require_guard,
)

__all__ = ["GuardedRequestsRH"]


def _pool_classes(guard: Guard) -> dict[str, type[Any]]:
    """HTTP and HTTPS connection pools whose connections open through the guard."""
    connect = guarded_connect(guard)

    def new_conn(conn: Any) -> Any:
        try:
            sock = connect((conn._dns_host, conn.port), conn.timeout, conn.source_address)
        except TimeoutError as exc:
            raise urllib3.exceptions.ConnectTimeoutError(conn, f"{conn.host} timed out") from exc
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(conn, f"no connection: {exc}") from exc
        for option in conn.socket_options or ():
            sock.setsockopt(*option)
        return sock

    http = type(
        "GuardedHTTPConnection", (urllib3.connection.HTTPConnection,), {"_new_conn": new_conn}
    )
    https = type(
        "GuardedHTTPSConnection", (urllib3.connection.HTTPSConnection,), {"_new_conn": new_conn}
    )
    return {
        "http": type("GuardedHTTPPool", (urllib3.HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("GuardedHTTPSPool", (urllib3.HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class _GuardedAdapter(RequestsHTTPAdapter):  # type: ignore[misc]
    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        self._guard = guard
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._guard)

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        """Proxies are off for guarded requests: fail closed."""
        raise GuardRefusal(errors.LinkForbidden(detail="proxies are not guarded"))


class _GuardedSession(RequestsSession):  # type: ignore[misc]
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self._guard = guard

    def get_redirect_target(self, resp: Any) -> Any:
        target = super().get_redirect_target(resp)
        if target:
            from urllib.parse import urljoin

            try:
                self._guard.check_url(urljoin(resp.url, target))
            except GuardRefusal:
                resp.close()  # the connection goes back to nobody
                raise
        return target


class GuardedRequestsRH(GuardedRequests, RequestsRH):  # type: ignore[misc]
    """yt-dlp's requests handler with every connection, redirect and body through the guard."""

    def _create_instance(self, cookiejar: Any, legacy_ssl_support: Any = None) -> Any:
        guard = require_guard(self.guard)
        session = _GuardedSession(guard)
        adapter = _GuardedAdapter(
            guard,
            ssl_context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support),
            source_address=self.source_address,
            max_retries=urllib3.util.retry.Retry(False),
        )
        session.adapters.clear()
        session.headers = CaseInsensitiveDict()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.cookies = cookiejar
        session.trust_env = False
        return session
