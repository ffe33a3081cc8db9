"""A name table for the security tests: names that lead inside and outside, no real DNS asked."""

from __future__ import annotations

import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["FakeResolver", "fake_getaddrinfo"]

TABLE = {"internal.example": "127.0.0.3", "public.example": "127.0.0.2"}
"""``internal.example`` → the canary's address; ``public.example`` → the fixture/hostile site's."""


def fake_getaddrinfo(host: str, port: int, *_: object) -> list[tuple[Any, ...]]:
    """``socket.getaddrinfo`` over :data:`TABLE`; any other host only as an address as such."""
    if host not in TABLE:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (TABLE[host], port))]


class FakeResolver(AbstractResolver):
    """aiohttp's resolver interface over the same table."""

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": info[4][0],
                "port": port,
                "family": info[0],
                "proto": 0,
                "flags": 0,
            }
            for info in fake_getaddrinfo(host, port)
        ]

    async def close(self) -> None:
        return None
