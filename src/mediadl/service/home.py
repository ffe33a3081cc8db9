"""``GET /``: the web page for browsers, cobalt's server info for API clients.

The one place where the root is negotiated. A client that prefers ``text/html`` over
``application/json`` (a browser navigating) gets the page; everything else — cobalt's web client
sends ``Accept: */*`` — gets the JSON server info. The page itself comes from :mod:`mediadl.web`,
whose own routes (its static files, the list of sites) ride along on this router.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mediadl import web
from mediadl.service.cobalt import server_info
from mediadl.service.context import ServiceContext, get_context
from mediadl.web.accept import quality_list

__all__ = ["prefers_html", "render_page", "router"]

router = APIRouter(tags=["cobalt"])
router.include_router(web.router)


def _quality(accept: str, wanted: str) -> float:
    """The q-value ``accept`` gives ``wanted`` (type/subtype), its most specific match winning."""
    best, best_rank = 0.0, -1
    kind = wanted.split("/", 1)[0]
    for media, q in quality_list(accept):
        rank = {wanted: 2, f"{kind}/*": 1, "*/*": 0}.get(media.lower(), -1)
        if rank > best_rank:
            best, best_rank = q, rank
    return best


def prefers_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def render_page(ctx: ServiceContext, request: Request) -> Response:
    """The web page, in the request's language."""
    base = ctx.settings.base_url
    jobs: web.JobsMode = "off"
    if ctx.jobs is not None:
        jobs = "open" if ctx.settings.jobs_open else "key"
    return web.page_response(request, api_origins=[base.rstrip("/")] if base else [], jobs=jobs)


@router.get("/", responses={200: {"content": {"application/json": {}, "text/html": {}}}})
@router.head("/", include_in_schema=False)
async def root(request: Request) -> Response:
    """Server info as JSON (cobalt's `GET /`), or the web page for a browser."""
    ctx = get_context(request)
    headers = {"Vary": "Accept"}
    if prefers_html(request):
        response = render_page(ctx, request)
        response.headers.update(headers)
        return response
    return JSONResponse(server_info(ctx, request), headers=headers)
