"""``until_client_leaves`` on its own: what the ASGI server says, and what becomes of the work."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message, Receive, Scope, Send

from mediadl.service.leaving import until_client_leaves

REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}
SCOPE: Scope = {"type": "http", "method": "GET", "path": "/api/v1/tunnel"}


class Peer:
    """The ASGI server's side: the request, then ``http.disconnect`` once ``leave()`` is called
    or once the whole answer was sent (as uvicorn says it)."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()
        self.sent: list[Message] = []
        self._request_given = False

    async def receive(self) -> Message:
        if not self._request_given:
            self._request_given = True
            return REQUEST
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.gone.set()

    def leave(self) -> None:
        self.gone.set()


async def test_leaving_before_the_first_byte_cancels_the_work_and_waits_for_its_clean_up() -> None:
    peer, started, cleaned = Peer(), asyncio.Event(), asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert await receive() == REQUEST  # relayed as ever
        started.set()
        try:
            await asyncio.Event().wait()  # ffmpeg's first output, which never comes
        finally:
            await asyncio.sleep(0.01)  # clean-up that awaits (kill, wait, close)
            cleaned.set()

    request = asyncio.create_task(until_client_leaves(app, SCOPE, peer.receive, peer.send))
    await started.wait()
    peer.leave()
    await request  # returns normally: a client that left is no error
    assert cleaned.is_set()
    assert peer.sent == []


async def test_an_answer_sent_whole_lets_the_clean_up_finish() -> None:
    """The server says ``http.disconnect`` after the last byte too; that is no leaving."""
    peer, cleaned = Peer(), asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"all", "more_body": False})
        await asyncio.sleep(0.05)  # clean-up after the answer, while the server says it ended
        cleaned.set()

    await until_client_leaves(app, SCOPE, peer.receive, peer.send)
    assert cleaned.is_set()
    assert [m["type"] for m in peer.sent] == ["http.response.start", "http.response.body"]


async def test_an_error_of_the_work_goes_up_to_the_error_guard() -> None:
    peer = Peer()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("a bug")

    with pytest.raises(LookupError):
        await until_client_leaves(app, SCOPE, peer.receive, peer.send)


async def test_a_request_cancelled_from_outside_cancels_its_work() -> None:
    peer, started, cancelled = Peer(), asyncio.Event(), asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    request = asyncio.create_task(until_client_leaves(app, SCOPE, peer.receive, peer.send))
    await started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert cancelled.is_set()
