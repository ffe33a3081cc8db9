"""Optional API keys (``Authorization: Api-Key <uuid>``) and request body limits.

Keys are configured with ``MEDIADL_API_KEYS``; with ``MEDIADL_API_KEY_REQUIRED`` a request
without one is refused, otherwise a missing key is fine and a wrong one is not (as cobalt does).
"""

from __future__ import annotations

import hmac
import re
from enum import StrEnum

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediadl.service.headers import bounded_int
from mediadl.service.problems import AuthInvalid, AuthMissing, RequestTooLarge, error_response
from mediadl.settings import Settings

__all__ = ["BodyLimit", "KeyCheck", "check_key", "key_allowed", "require_key"]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class KeyCheck(StrEnum):
    """Outcome of reading an ``Authorization`` header (cobalt's ``error.api.auth.key.*``)."""

    OK = "ok"
    MISSING = "missing"
    NOT_API_KEY = "not_api_key"
    INVALID = "invalid"
    NOT_FOUND = "not_found"


def check_key(settings: Settings, authorization: str | None) -> KeyCheck:
    if authorization is None:
        return KeyCheck.MISSING
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "api-key":
        return KeyCheck.NOT_API_KEY
    if not _UUID.match(key.lower()) or " " in key:
        return KeyCheck.INVALID
    found = False
    for known in settings.api_keys:  # every key compared in constant time
        found |= hmac.compare_digest(known.encode(), key.lower().encode())
    return KeyCheck.OK if found else KeyCheck.NOT_FOUND


def key_allowed(settings: Settings, outcome: KeyCheck) -> bool:
    """Whether a request goes on: no keys configured, a good key, or no key when not required."""
    if not settings.api_keys and not settings.api_key_required:
        return True
    if outcome is KeyCheck.OK:
        return True
    return not settings.api_key_required and outcome in (KeyCheck.MISSING, KeyCheck.NOT_API_KEY)


def require_key(settings: Settings, authorization: str | None) -> None:
    """For the native API: ``auth.missing`` or ``auth.invalid`` when the key doesn't pass."""
    outcome = check_key(settings, authorization)
    if key_allowed(settings, outcome):
        return
    if outcome in (KeyCheck.MISSING, KeyCheck.NOT_API_KEY):
        raise AuthMissing()
    raise AuthInvalid()


class BodyLimit:
    """Request bodies larger than the limit for their path fail with ``RequestTooLarge``.

    A declared length over the limit is answered ``413`` at once; at ``POST /`` (and for bodies
    without a length) it is raised while the route reads, so cobalt's face answers in its shape.
    """

    def __init__(self, app: ASGIApp, *, default: int, root: int) -> None:
        self.app = app
        self.default = default
        self.root = root

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        root = scope["path"] == "/"
        limit = self.root if root else self.default
        declared = dict(scope["headers"]).get(b"content-length", b"")
        over = declared.isdigit() and bounded_int(declared) > limit
        if not root and over:
            too_large = RequestTooLarge(f"The request body may be at most {limit} bytes.")
            await error_response(too_large)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if over:
                raise RequestTooLarge(f"The request body may be at most {limit} bytes.")
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise RequestTooLarge(f"The request body may be at most {limit} bytes.")
            return message

        await self.app(scope, limited, send)
