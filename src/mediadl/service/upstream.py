"""One format's bytes for a tunnel, surviving an expired media link.

Sites bind media links to a time or an address and answer ``403``/``410`` once they lapse. The
link is read again from the page (a fresh extraction), once per stream, and the bytes go on from
where they stopped: at the start of a stream or in its middle, the client never notices.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from mediadl import errors
from mediadl.models import Format
from mediadl.service.source import Opener, Upstream
from mediadl.settings import Settings

__all__ = ["Refresh", "ResilientStream"]

log = logging.getLogger("mediadl.service.upstream")

Refresh = Callable[[], Awaitable[Format]]
"""Re-extract the page and return the same format with fresh links."""


class ResilientStream:
    """``await open(start)`` then ``async for chunk in chunks()``; ``aclose()`` always."""

    def __init__(
        self, opener: Opener, fmt: Format, settings: Settings, refresh: Refresh | None
    ) -> None:
        self._opener = opener
        self._fmt = fmt
        self._settings = settings
        self._refresh = refresh
        self._up: Upstream | None = None
        self.position = 0
        """Offset of the next byte to hand out."""

    @property
    def total(self) -> int | None:
        return self._up.total if self._up else None

    @property
    def estimate(self) -> int | None:
        return self._up.estimate if self._up else None

    async def open(self, start: int = 0) -> None:
        self.position = start
        try:
            self._up = await self._opener(self._fmt, self._settings, start)
        except errors.FetchForbidden:
            await self._renew()

    async def chunks(self) -> AsyncIterator[bytes]:
        while self._up is not None:
            try:
                async for data in self._up.chunks:
                    self.position += len(data)
                    yield data
                return
            except errors.FetchForbidden:
                await self._renew()

    async def aclose(self) -> None:
        up, self._up = self._up, None
        if up is not None:
            await up.aclose()

    async def _renew(self) -> None:
        """Re-extract once and reopen at ``position``; a second refusal is final."""
        refresh, self._refresh = self._refresh, None
        await self.aclose()
        if refresh is None:
            raise errors.FetchForbidden(format_id=self._fmt.id)
        log.info("format %s refused at byte %d: re-extracting", self._fmt.id, self.position)
        self._fmt = await refresh()
        self._up = await self._opener(self._fmt, self._settings, self.position)
