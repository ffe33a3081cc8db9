"""What the service logs when a stream breaks after its first bytes: one line for an expected
error, a traceback only for a bug; and uvicorn adds nothing when the cut was logged."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.types import Message

from mediadl import errors
from mediadl.service.logs import (
    UNFINISHED,
    CutFilter,
    install_log_filters,
    note_cut,
    start_request,
)
from mediadl.service.problems import ErrorGuard, install_handlers


def guarded(*routes: Route) -> Starlette:
    """Routes behind the error guard and the error handlers, as in the service."""
    app = Starlette(routes=list(routes), middleware=[Middleware(ErrorGuard)])
    install_handlers(app)
    return app


def breaking_app(failure: Exception) -> Starlette:
    async def body() -> AsyncIterator[bytes]:
        yield b"first bytes"
        raise failure

    async def stream(_request: Request) -> StreamingResponse:
        return StreamingResponse(body())

    return guarded(Route("/", stream))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    finished: bool


async def get(app: Starlette) -> Answer:
    """One GET straight through ASGI, as a server would run it (a cut shows as unfinished)."""
    sent: list[Message] = []
    asked = asyncio.Event()  # after the request, receive waits for a disconnect that never comes

    async def receive() -> Message:
        if asked.is_set():
            await asyncio.Event().wait()
        asked.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await app({**scope, "http_version": "1.1", "scheme": "http", "root_path": ""}, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    return Answer(
        start["status"],
        {k.decode(): v.decode() for k, v in start["headers"]},
        b"".join(m.get("body", b"") for m in bodies),
        bool(bodies) and not bodies[-1].get("more_body", False),
    )


async def test_an_expected_error_after_the_start_is_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mediadl")
    response = await get(breaking_app(errors.FetchForbidden(format_id="0")))
    assert response.body == b"first bytes" and not response.finished  # cut, not ended
    request_id = response.headers["x-request-id"]
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1
    (line,) = lines
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert "fetch.forbidden" in line.getMessage() and request_id in line.getMessage()


async def test_a_bug_after_the_start_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mediadl")
    response = await get(breaking_app(ValueError("a bug")))
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1
    assert lines[0].levelno == logging.ERROR and lines[0].exc_info is not None
    assert response.headers["x-request-id"] in lines[0].getMessage()


async def test_an_error_before_the_start_names_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(_request: Request) -> StreamingResponse:
        raise errors.FetchFailed(format_id="0")

    caplog.set_level(logging.DEBUG, logger="mediadl")
    response = await get(guarded(Route("/", failing)))
    assert response.status == 502
    assert json.loads(response.body)["error"]["code"] == "fetch.failed"
    (line,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.exc_info is None and response.headers["x-request-id"] in line.getMessage()


def test_uvicorns_line_is_dropped_only_after_a_logged_cut() -> None:
    install_log_filters()
    assert any(isinstance(f, CutFilter) for f in logging.getLogger("uvicorn.error").filters)
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, UNFINISHED, (), None)
    assert CutFilter().filter(record)  # outside a request whose cut was logged: kept
    request = contextvars.copy_context()
    request.run(start_request)
    assert request.run(CutFilter().filter, record)  # a request not cut: kept
    request.run(note_cut)
    assert not request.run(CutFilter().filter, record)
    other = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "other", (), None)
    assert request.run(CutFilter().filter, other)
