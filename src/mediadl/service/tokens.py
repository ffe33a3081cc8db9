"""Signed links: tunnels carry the request (page URL, item, choice), never an upstream media URL.

A token is ``itsdangerous``' URL-safe serialization of a small JSON object, signed with
HMAC-SHA256 under a key derived per purpose (a thumbnail token is no tunnel token), compared in
constant time. The expiry is a field of the signed object, so every replica holding the same
secret reaches the same verdict: tampered → ``tunnel.invalid`` (403), expired → ``tunnel.expired``
(410), checked in that order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from mediadl.models import Choice
from mediadl.service.problems import TunnelExpired, TunnelInvalid

__all__ = ["TOKEN_PATTERN", "Signer", "TunnelRequest", "choice_from_dict", "choice_to_dict"]

TOKEN_PATTERN = "^[A-Za-z0-9_.-]+$"  # noqa: S105 - a pattern, not a password
"""What a token is made of (base64url and the dots between its parts), for the OpenAPI schema:
a ``t`` holding anything else can't be one of ours, and its signature check refuses it (403)."""

_CHOICE_FIELDS = {f.name: f for f in dataclasses.fields(Choice)}
_DEFAULT_CHOICE = Choice()


@dataclass(frozen=True, slots=True)
class TunnelRequest:
    """What a tunnel stands for: which link, which item of it, what the person chose."""

    url: str
    choice: Choice
    item: int | None = None
    """1-based index into a playlist's or post's entries."""
    expires: int = 0
    """Unix time after which the link is refused."""
    id: str = ""
    """Random name of this link: progress events are published under it."""
    part: int | None = None
    """One stream of the plan (its index), sent as it is, for a client that joins the streams
    itself (cobalt's ``local-processing``); ``None``: the whole file."""


class Signer:
    """Signs and checks tokens for one purpose each (``tunnel``, ``thumbnail``)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._serializers: dict[str, URLSafeSerializer] = {}

    def _serializer(self, purpose: str) -> URLSafeSerializer:
        """One serializer per purpose, made once (it holds no state between tokens)."""
        serializer = self._serializers.get(purpose)
        if serializer is None:
            serializer = self._serializers[purpose] = URLSafeSerializer(
                self._key,
                salt=f"mediadl.{purpose}.v1",
                signer_kwargs={"digest_method": hashlib.sha256, "key_derivation": "hmac"},
            )
        return serializer

    def dumps(self, purpose: str, data: dict[str, Any], ttl: float) -> str:
        return str(self._serializer(purpose).dumps({**data, "x": int(time.time() + ttl)}))

    def loads(self, purpose: str, token: str) -> dict[str, Any]:
        """The signed object; ``TunnelInvalid`` if tampered, ``TunnelExpired`` if too old."""
        try:
            data = self._serializer(purpose).loads(token)
        except BadSignature:
            raise TunnelInvalid() from None
        if not isinstance(data, dict) or not isinstance(data.get("x"), int):
            raise TunnelInvalid()
        if data["x"] < time.time():
            raise TunnelExpired(expired_at=data["x"])
        return data

    # --- tunnels ---------------------------------------------------------------------------

    def tunnel(
        self, url: str, choice: Choice, *, item: int | None, ttl: float, part: int | None = None
    ) -> str:
        data: dict[str, Any] = {"u": url, "c": choice_to_dict(choice), "n": secrets.token_hex(6)}
        if item is not None:
            data["i"] = item
        if part is not None:
            data["s"] = part
        return self.dumps("tunnel", data, ttl)

    def read_tunnel(self, token: str) -> TunnelRequest:
        data = self.loads("tunnel", token)
        try:
            item, part = data.get("i"), data.get("s")
            return TunnelRequest(
                url=str(data["u"]),
                choice=choice_from_dict(data.get("c") or {}),
                item=int(item) if item is not None else None,
                expires=int(data["x"]),
                id=str(data.get("n", "")),
                part=int(part) if part is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            raise TunnelInvalid() from None


def choice_to_dict(choice: Choice) -> dict[str, Any]:
    """The fields that differ from the defaults (keeps links short)."""
    return {
        name: getattr(choice, name)
        for name in _CHOICE_FIELDS
        if getattr(choice, name) != getattr(_DEFAULT_CHOICE, name)
    }


def choice_from_dict(data: dict[str, Any]) -> Choice:
    unknown = set(data) - set(_CHOICE_FIELDS)
    if unknown:
        raise ValueError(f"unknown choice fields {sorted(unknown)}")
    return Choice(**data)
