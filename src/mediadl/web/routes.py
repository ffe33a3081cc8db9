"""The web page's own routes besides ``/``: its static files and the list of sites."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mediadl.web.assets import IMMUTABLE, REVALIDATE, asset_response, bundle
from mediadl.web.pages import sites_response

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.api_route("/static/{version}/{path:path}", methods=["GET", "HEAD"])
async def static(request: Request, version: str, path: str) -> Response:
    """A file of the page; kept for a year when asked for under the current version."""
    files = bundle()
    asset = files.files.get(path)
    if asset is None:
        raise HTTPException(status_code=404)
    cache = IMMUTABLE if version == files.version else REVALIDATE
    return asset_response(request, asset, cache_control=cache)


@router.api_route("/sites", methods=["GET", "HEAD"])
async def sites(request: Request) -> Response:
    """Every site the engine reads, as a page."""
    return await sites_response(request)
