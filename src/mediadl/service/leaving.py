"""Work for a request stops as soon as its client leaves, from the first moment (pure ASGI).

A streamed answer notices a client that left only once it sends: Starlette listens for
``http.disconnect`` only after the response has started, and a tunnel that remuxes sends its
headers only after ffmpeg's first bytes. A client that leaves before that would keep its download
slot, ffmpeg and the site's connections for as long as the site takes, which a dripping site makes
forever. :func:`until_client_leaves` reads the client's side of the connection from the start and
cancels the request's work the moment it reads ``http.disconnect``; the work's own clean-up
(``finally`` blocks, context managers) then kills ffmpeg and closes upstream connections, and the
caller's (the slot's release) runs once that is done.

It marks the request's scope (:data:`WATCHED`): a streamed answer inside needs no listener of
its own (Starlette's ``StreamingResponse`` starts a task group with one per answer), see
:class:`~mediadl.service.delivery.ClosingStream`.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WATCHED", "until_client_leaves"]

_LEFT: Message = {"type": "http.disconnect"}
WATCHED = "mediadl.client_watched"
"""Scope key, true under :func:`until_client_leaves`: the request's work is cancelled the moment
its client leaves."""


async def until_client_leaves(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app`` for this request; if the client leaves first, cancel it and return once its
    clean-up ran. The app reads the same messages as ever (relayed, in order).

    The server also answers ``http.disconnect`` once the whole answer is sent; that is no
    leaving: the work then finishes its clean-up undisturbed."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    ended, answered, left = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def watch() -> None:
        while True:
            message = await receive()
            inbox.put_nowait(message)
            if message["type"] == "http.disconnect":
                ended.set()
                if not answered.is_set():
                    left.set()
                return

    async def relayed() -> Message:
        if ended.is_set() and inbox.empty():
            return _LEFT
        return await inbox.get()

    async def sending(message: Message) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    scope[WATCHED] = True
    work = asyncio.ensure_future(app(scope, relayed, sending))
    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if not left.is_set():
            await work  # the app ended, or the answer was all sent: let it finish
    finally:  # the app ended, the client left, or this request itself is being cancelled
        watcher.cancel()
        work.cancel()
        await asyncio.gather(work, watcher, return_exceptions=True)
    if left.is_set() and work.cancelled():
        return
    with contextlib.suppress(asyncio.CancelledError):
        if (failure := work.exception()) is not None:
            raise failure
