"""Errors of the service's own making, and the one JSON shape every error is answered with.

The engine's tree (``mediadl.errors``) covers links, content and fetching; these cover requests:

    MediadlError
    └── ServiceError
        ├── RequestInvalid        request.invalid        422  (body or query)
        ├── RequestTooLarge       request.too_large      413
        ├── RouteNotFound         request.not_found      404
        ├── MethodNotAllowed      request.method         405
        ├── RangeNotSatisfiable   request.range          416
        ├── AuthMissing           auth.missing           401
        ├── AuthInvalid           auth.invalid           401
        ├── MetricsKeyNeeded      auth.metrics           401  (GET /metrics without its key)
        ├── TunnelInvalid         tunnel.invalid         403  (tampered or not ours)
        └── TunnelExpired         tunnel.expired         410

Every error reaches a client as ``{"error": {"code", "message"[, "context"]}}``; anything else
that escapes a handler is a bug: logged with its traceback, answered ``500 internal``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediadl import errors
from mediadl.engine.egress import parse_host_address
from mediadl.engine.ytdl import UNREACHABLE
from mediadl.service.logs import note_cut, request_id, start_request

__all__ = [
    "AuthInvalid",
    "AuthMissing",
    "ErrorGuard",
    "MethodNotAllowed",
    "MetricsKeyNeeded",
    "RangeNotSatisfiable",
    "RequestInvalid",
    "RequestTooLarge",
    "RouteNotFound",
    "ServiceError",
    "TunnelExpired",
    "TunnelInvalid",
    "error_body",
    "error_response",
    "install_handlers",
    "said_less",
]

log = logging.getLogger("mediadl.service")

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""The methods an ``Allow`` header may name (``OPTIONS`` only answers CORS preflights)."""
_HIDDEN_CONTEXT = frozenset({"detail", "returncode"})
"""Context that may carry internal details (ffmpeg's stderr, loopback links): logged, not sent."""


class ServiceError(errors.MediadlError):
    code = "request.invalid"
    status = 400


class RequestInvalid(ServiceError):
    code = "request.invalid"
    status = 422
    default_message = "The request isn't valid. Check its fields against the API documentation."


class RequestTooLarge(ServiceError):
    code = "request.too_large"
    status = 413
    default_message = "The request body is too large."


class RouteNotFound(ServiceError):
    code = "request.not_found"
    status = 404
    default_message = "There is nothing at this address."


class MethodNotAllowed(ServiceError):
    code = "request.method"
    status = 405
    default_message = "This address doesn't accept that method."


class RangeNotSatisfiable(ServiceError):
    code = "request.range"
    status = 416
    default_message = "The requested byte range lies outside the file."


class AuthMissing(ServiceError):
    code = "auth.missing"
    status = 401
    default_message = "This server needs an API key: send 'Authorization: Api-Key <key>'."


class AuthInvalid(ServiceError):
    code = "auth.invalid"
    status = 401
    default_message = "This API key isn't valid on this server."


class MetricsKeyNeeded(ServiceError):
    code = "auth.metrics"
    status = 401
    default_message = (
        "Reading the metrics needs the server's metrics key: send "
        "'Authorization: Bearer <key>' with the key set in MEDIADL_METRICS_KEY."
    )


class TunnelInvalid(ServiceError):
    code = "tunnel.invalid"
    status = 403
    default_message = "This download link isn't valid. Ask for a new one."


class TunnelExpired(ServiceError):
    code = "tunnel.expired"
    status = 410
    default_message = "This download link has expired. Ask for a new one."


def said_less(err: errors.MediadlError, url: str | None = None) -> errors.MediadlError:
    """``err`` as an outside client may see it: a host *name* refused for the address it
    resolves to is answered like a name that doesn't resolve (``fetch.failed``, with ``url``).

    Otherwise ``link.forbidden`` would tell a stranger which internal names exist. A refused
    address written as such (``10.0.0.5``, ``localhost``) says nothing the client didn't know
    and stays ``link.forbidden``; the log keeps the real reason either way.
    """
    host = err.context.get("host")
    if not isinstance(err, errors.LinkForbidden) or not isinstance(host, str) or not host:
        return err
    if parse_host_address(host) is not None:
        return err
    log.warning(
        "link.forbidden: %s leads to a refused address (%s); answered as fetch.failed",
        host,
        err.context.get("detail", "?"),
    )
    url = url or err.context.get("url")
    return errors.FetchFailed(UNREACHABLE, reason="unreachable", **({"url": url} if url else {}))


def error_body(err: errors.MediadlError) -> dict[str, Any]:
    """``{"error": {"code", "message"[, "context"]}}`` without internal details."""
    body = said_less(err).to_dict()
    context = {k: v for k, v in body.pop("context", {}).items() if k not in _HIDDEN_CONTEXT}
    if context:
        body["context"] = context
    return {"error": body}


def error_response(err: errors.MediadlError, headers: dict[str, str] | None = None) -> JSONResponse:
    err = said_less(err)
    if err.status >= 500:
        log.warning("request %s: %s: %s %s", request_id(), err.code, err.message, err.context)
    return JSONResponse(error_body(err), status_code=err.status, headers=headers)


def unexpected(exc: BaseException) -> errors.InternalError:
    """A bug: the traceback goes to the log, the client gets ``internal``."""
    log.error("request %s: unexpected error", request_id(), exc_info=exc)
    return errors.InternalError()


async def _on_mediadl_error(_request: Request, exc: Exception) -> JSONResponse:
    """The error's answer; one that says when to come back (``retry_after`` in its context,
    seconds) says it in ``Retry-After`` too."""
    assert isinstance(exc, errors.MediadlError)
    retry_after = exc.context.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None
    return error_response(exc, headers=headers)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {}
    loc = [p for p in first.get("loc", ()) if p not in ("body", "query", "header")]
    where = ".".join(str(p) for p in loc if isinstance(p, int) or str(p).isidentifier())
    message = f"{where}: {first.get('msg', 'invalid')}." if where else "The request isn't valid."
    return error_response(RequestInvalid(message, field=where or None))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, errors.MediadlError):
        # Raised while the framework read the body (the body limit on a chunked body): the
        # framework wraps it as "an error parsing the body"; the client is owed the real one.
        return error_response(exc.__cause__)
    err: errors.MediadlError
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        err = RouteNotFound()
    elif exc.status_code == 405:
        err = MethodNotAllowed()
        if methods := _allowed_methods(request.app, request.scope):
            headers["Allow"] = ", ".join(methods)
    else:
        err = RequestInvalid(str(exc.detail) if exc.detail else None)
    return error_response(err, headers=headers)


def _allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method the routes at this path answer, for ``Allow`` (RFC 9110 §10.2.1).

    Starlette names only the first route it found for the path, but a path often has several
    (``GET /`` and cobalt's ``POST /``, ``GET`` and ``HEAD`` of a tunnel), each a route of its own:
    ask each route about each method. Mounts answer any method at their path, so they don't count.
    """
    routes = [route for route in app.router.routes if not isinstance(route, Mount)]
    return [
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def install_handlers(app: Any) -> None:
    """Map every exception a route can raise onto the one error shape."""
    app.add_exception_handler(errors.MediadlError, _on_mediadl_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)


class ErrorGuard:
    """Innermost safety net (inside CORS, so even a 500 carries the CORS headers).

    An exception that escapes the routes becomes ``500 internal`` if no byte was sent yet;
    after that the connection is cut, so a client never takes a truncated body for a whole one.
    Every answer carries the request's id (``X-Request-Id``: the client's when sane, else a new
    one), which its log lines name, and is counted (``answered``) once it started; a cut by
    an expected error (the site refused a segment mid-way) is one warning line, since a stranger
    can cause it at will; only a bug is logged with its traceback.
    """

    def __init__(
        self, app: ASGIApp, *, answered: Callable[[Scope, int], None] | None = None
    ) -> None:
        self.app = app
        self.answered = answered
        """Told each answer's status once it started (the metrics count it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        rid = start_request(_incoming_id(scope))

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the net itself: every escape is answered
            if status:
                _log_cut(exc)
                return  # the server closes the connection: the client sees a cut, not an end
            err = exc if isinstance(exc, errors.MediadlError) else unexpected(exc)
            await error_response(err)(scope, receive, tracking_send)
        finally:
            if status and self.answered is not None:
                self.answered(scope, status)


def _incoming_id(scope: Scope) -> str | None:
    """The client's (or its proxy's) ``X-Request-ID``; :func:`start_request` checks it."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return str(value.decode("latin-1"))
    return None


def _log_cut(exc: Exception) -> None:
    """One line for a stream the site (or a limit) cut; a traceback only for a bug."""
    note_cut()
    expected = _expected(exc)
    if expected is not None:
        log.warning(
            "request %s cut: %s: %s %s",
            request_id(),
            expected.code,
            expected.message,
            expected.context,
        )
    else:
        log.error("request %s cut by an unexpected error", request_id(), exc_info=exc)


def _expected(exc: BaseException) -> errors.MediadlError | None:
    """The expected error under Starlette's wrappers ("response already started", a task group
    of one), or ``None`` for a bug."""
    while True:
        if isinstance(exc, errors.MediadlError):
            return None if isinstance(exc, errors.InternalError) else exc
        if isinstance(exc, RuntimeError) and "already started" in str(exc) and exc.__cause__:
            exc = exc.__cause__
        elif isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        else:
            return None
