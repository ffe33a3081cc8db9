"""cobalt-compatible API (API 11) at the root of the origin: ``POST /`` and ``GET /`` info.

Shapes and codes follow cobalt's public documentation: answers are ``tunnel``, ``redirect``,
``local-processing``, ``picker`` or ``error`` objects with a ``status`` key; errors are
``error.api.*`` codes with HTTP 400 (``rate_exceeded`` 429, ``generic`` 500), as cobalt answers
them, and name the site in ``context.service`` (:mod:`~mediadl.service.cobalt_names`). Tunnel
links are this server's ``/api/v1/tunnel?t=…``: they carry a query string, so cobalt's ``&p=1``
probe works.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from mediadl import errors
from mediadl.models import MediaInfo
from mediadl.service.auth import check_key, key_allowed
from mediadl.service.cobalt_local import local_merge, local_proxy
from mediadl.service.cobalt_names import service_name, service_of_link
from mediadl.service.cobalt_schema import (
    CobaltRequest,
    name_template,
    normalize_body,
    to_choice,
    with_template,
)
from mediadl.service.context import ServiceContext, get_context, mediadl_version
from mediadl.service.delivery import delivery_mode
from mediadl.service.links import check_link
from mediadl.service.native import tunnel_links
from mediadl.service.problems import log as service_log
from mediadl.service.problems import said_less
from mediadl.service.thumbs import thumbnail_link

__all__ = ["COBALT_API_VERSION", "cobalt_code", "router", "server_info"]

router = APIRouter(tags=["cobalt"])

COBALT_API_VERSION = "11.7"
"""The cobalt API generation this face follows."""
SERVICES = (
    "bilibili", "bluesky", "dailymotion", "facebook", "instagram", "reddit", "soundcloud",
    "tiktok", "twitch", "twitter", "vimeo", "youtube", "generic video pages",
)  # fmt: skip
"""Shown by cobalt clients; informational: yt-dlp's extractors cover far more."""

_ACCEPTED = ("application/json", "application/json; charset=utf-8")
_CODES = {
    "link.invalid": "link.invalid",
    "link.unsupported": "service.unsupported",
    "link.forbidden": "link.invalid",
    "content.unavailable": "content.video.unavailable",
    "content.no_media": "fetch.empty",
    "content.live": "content.video.live",
    "content.private": "content.video.private",
    "content.region": "content.video.region",
    "content.drm": "content.video.unavailable",
    "content.too_long": "content.too_long",
    "content.unfetchable": "fetch.fail",
    "site.closed": "content.video.unavailable",
    "site.drm": "content.video.unavailable",
    "site.subscription": "content.video.private",
    "format.unavailable": "fetch.empty",
    "fetch.rate": "fetch.rate",
    "request.invalid": "invalid_body",
    "request.too_large": "invalid_body",
    "internal": "generic",
}


def cobalt_code(err: errors.MediadlError) -> str:
    """The ``error.api.*`` code a cobalt client knows for one of our errors."""
    return "error.api." + _CODES.get(err.code, "fetch.fail")


def _error(code: str, context: dict[str, Any] | None = None, status: int = 400) -> JSONResponse:
    body: dict[str, Any] = {"status": "error", "error": {"code": code}}
    if context:
        body["error"]["context"] = context
    return JSONResponse(body, status_code=status)


def _from_error(err: errors.MediadlError, service: str | None) -> JSONResponse:
    """cobalt's error answer; ``context.service`` names the site: the one a site extractor
    answered as (a closed site), else ``service``, the name known from the link or the page."""
    err = said_less(err)
    service = err.context.get("service") or service
    context: dict[str, Any] = {"service": service} if service else {}
    if err.code == "content.too_long" and "limit" in err.context:
        context["limit"] = err.context["limit"]
    return _error(cobalt_code(err), context, 500 if err.code == "internal" else 400)


@router.post(
    "/",
    responses={
        status: {"description": "cobalt's error shape: `{status: error, error: {code}}`."}
        for status in (400, 401, 429, 500)
    },
    openapi_extra={
        "parameters": [
            {
                "name": "Accept",
                "in": "header",
                "required": True,
                "description": "cobalt answers only clients that accept JSON; anything else is "
                "`error.api.header.accept`.",
                "schema": {"type": "string", "enum": list(_ACCEPTED)},
            }
        ],
        "requestBody": {
            "required": True,
            "description": "`Content-Type: application/json` (else "
            "`error.api.header.content_type`), at most 1 KiB.",
            "content": {"application/json": {"schema": CobaltRequest.model_json_schema()}},
        },
    },
)
async def process(request: Request) -> JSONResponse:
    """cobalt's main endpoint: a link and settings in, a `tunnel`/`local-processing`/`picker`/
    `error` out."""
    ctx = get_context(request)
    if request.headers.get("accept", "").lower() not in _ACCEPTED:
        return _error("error.api.header.accept")
    if request.headers.get("content-type", "").lower() not in _ACCEPTED:
        return _error("error.api.header.content_type")
    outcome = check_key(ctx.settings, request.headers.get("authorization"))
    if not key_allowed(ctx.settings, outcome):
        return _error(f"error.api.auth.key.{outcome.value}")
    try:
        raw = json.loads(await request.body())
    except (errors.MediadlError, ValueError):
        return _error("error.api.invalid_body")
    if not isinstance(raw, dict):
        return _error("error.api.invalid_body")
    if not raw.get("url"):
        return _error("error.api.link.missing")
    try:
        req = CobaltRequest.model_validate(normalize_body(raw))
        req = req.model_copy(update={"url": check_link(req.url)})
    except ValidationError:
        return _error("error.api.invalid_body")
    except errors.MediadlError as exc:
        return _from_error(exc, None)
    return await _answer(ctx, request, req)


async def _answer(ctx: ServiceContext, request: Request, req: CobaltRequest) -> JSONResponse:
    service = service_of_link(req.url)
    try:
        info = await ctx.resolver.resolve(req.url)
        service = service_name(info, req.url)
        if info.is_playlist:
            return _picker(ctx, request, req, info, service)
        choice = to_choice(req, info)
        first = ctx.engine.plan(info, choice)
        choice = with_template(choice, name_template(req, info, first, service))
        plan = ctx.engine.plan(info, choice)
    except errors.MediadlError as exc:
        return _from_error(exc, service)
    except Exception as exc:  # noqa: BLE001 - a bug still gets cobalt's shape; logged
        service_log.error("unexpected error in POST /", exc_info=exc)
        return _error("error.api.generic", status=500)
    fmt, passthrough = plan.formats[0], delivery_mode(plan) == "passthrough"
    local = ctx.settings.cobalt_local_processing and req.localProcessing != "disabled"
    forced = local and req.localProcessing == "forced"
    if (
        ctx.settings.cobalt_redirect
        and not req.alwaysProxy
        and not forced  # cobalt: "forced" always goes through the server
        and passthrough
        and fmt.protocol in ("http", "https")
    ):
        return JSONResponse({"status": "redirect", "url": fmt.url, "filename": plan.filename})
    if local and (merge := local_merge(ctx, request, req.url, choice, plan, service=service)):
        return JSONResponse(merge)
    tunnel, _events = tunnel_links(ctx, request, req.url, choice, None)
    if forced and passthrough and (proxy := local_proxy(tunnel, choice, plan, service=service)):
        return JSONResponse(proxy)
    return JSONResponse({"status": "tunnel", "url": tunnel, "filename": plan.filename})


def _picker(
    ctx: ServiceContext, request: Request, req: CobaltRequest, info: MediaInfo, service: str
) -> JSONResponse:
    choice = with_template(to_choice(req), name_template(req, info, None, service))
    items = []
    for index, entry in enumerate(info.entries, 1):
        tunnel, _events = tunnel_links(ctx, request, req.url, choice, index)
        item: dict[str, Any] = {"type": "video", "url": tunnel}
        thumb = thumbnail_link(ctx, request, entry.thumbnail)
        if thumb:
            item["thumb"] = thumb
        items.append(item)
    return JSONResponse({"status": "picker", "picker": items})


def server_info(ctx: ServiceContext, request: Request) -> dict[str, Any]:
    """``GET /`` for API clients: what cobalt clients read on load (no turnstile key)."""
    return {
        "cobalt": {
            "version": COBALT_API_VERSION,
            "url": ctx.public_base(request) + "/",
            "startTime": str(ctx.started_ms),
            "services": list(SERVICES),
        },
        "git": git_info(ctx.settings.source_url),
        "mediadl": {"version": mediadl_version()},
    }


@functools.cache
def git_info(source_url: str | None) -> dict[str, str]:
    """Commit and branch of the running code when it is a git checkout, and the operator's
    ``source_url`` as its remote: never the checkout's own remote, which can be a local path or
    an internal host."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(here), *args],
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        return done.stdout.strip() if done.returncode == 0 else "unknown"

    info = {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}
    if source_url:
        info["remote"] = source_url
    return info
