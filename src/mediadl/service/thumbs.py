"""Thumbnails through the server: signed links, fetched by the engine, only real raster images.

A page never loads a picture from a third-party site (the person's address stays private) and the
server is no open proxy: it fetches only links it signed itself. The bytes must be JPEG, PNG, GIF,
WebP or AVIF by their first bytes, whatever the site called them (no SVG: it can carry scripts).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mediadl import errors
from mediadl.engine.thumbnail import fetch_image_async
from mediadl.service.context import Context, ServiceContext
from mediadl.service.delivery import CROSS_ORIGIN
from mediadl.service.schemas import error_responses
from mediadl.service.tokens import TOKEN_PATTERN

__all__ = ["router", "sniff_image", "thumbnail_link"]

router = APIRouter(prefix="/api/v1", tags=["native"])

THUMBNAIL_TTL = 86400.0
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The media type of a raster image by its magic bytes, else ``None``."""
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    return None


def thumbnail_link(ctx: ServiceContext, request: Request, url: str | None) -> str | None:
    """A signed link to ``url`` through this server, or ``None``."""
    if not url:
        return None
    token = ctx.signer.dumps("thumbnail", {"u": url}, THUMBNAIL_TTL)
    return f"{ctx.public_base(request)}/api/v1/thumbnail?t={token}"


@router.get(
    "/thumbnail",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The picture."},
        **error_responses(),
    },
)
async def thumbnail(
    ctx: Context,
    t: Annotated[
        str,
        Query(
            min_length=10,
            max_length=8192,
            description="The signed link's token.",
            json_schema_extra={"pattern": TOKEN_PATTERN},
        ),
    ],
) -> Response:
    """A thumbnail named by a signed link from a resolve answer."""
    url = str(ctx.signer.loads("thumbnail", t).get("u", ""))
    data = await fetch_image_async(url, ctx.settings)
    kind = sniff_image(data or b"")
    if data is None or kind is None:
        raise errors.ContentInvalid("The site's thumbnail isn't a picture we can show.")
    return Response(
        data,
        media_type=kind,
        headers={
            "Cache-Control": "public, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
            **CROSS_ORIGIN,
        },
    )
