"""cobalt's ``local-processing`` answer: the browser joins separate video and audio itself.

When a cobalt client says ``localProcessing: "preferred"`` (or ``"forced"``) and the file would be
a server-side merge of a separate video and a separate audio stream (both copied, nothing to
transcode; progressive or DASH), the answer is cobalt API 11's ``local-processing`` object of type
``merge``: one tunnel per stream, video first, and what the output is (its media type, its name,
its tags). cobalt's web app fetches both tunnels and remuxes them with ``-c copy`` in the
browser, so the server only relays bytes and runs no ffmpeg. Behind the
``cobalt_local_processing`` setting.

With ``"forced"`` cobalt answers ``local-processing`` for a single file too: type ``proxy``, one
tunnel, which the web app saves as it comes. mediadl does the same where the file is passed
through as the site sends it (not HLS); a file the server must remux or convert keeps ``tunnel``,
as the browser would get nothing it could use from the raw pieces.

Each stream's tunnel is the page's tunnel with a ``part`` (the stream's place in the plan): it
is served by passthrough, the stream's own bytes as the site sends them (``Range`` works when its
size is known), under a media type and name of its own (``… .video.mp4``, ``… .audio.m4a``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request

from mediadl.models import Choice, Plan
from mediadl.service.context import ServiceContext
from mediadl.service.headers import media_type

__all__ = ["local_merge", "local_proxy", "part_link", "stream_part"]

WHOLE_FILES = frozenset({"http", "https", "http_dash_segments"})
"""Protocols whose bytes, as fetched, are a file of the format's type: a progressive file, or
DASH's initialization segment and its fragments (fragmented MP4 or WebM). HLS is left to the
server, as cobalt leaves it: its pieces are MPEG-TS whatever the format's extension says."""

_AUDIO_EXTS = {"mp4": "m4a", "webm": "weba"}
"""An audio stream in a video container, under the name an audio file of it has."""


def local_merge(
    ctx: ServiceContext,
    request: Request,
    url: str,
    choice: Choice,
    plan: Plan,
    *,
    service: str,
) -> dict[str, Any] | None:
    """The ``local-processing`` answer for a merge of separate streams, else ``None``."""
    video, audio = plan.video, plan.audio
    if (
        video is None
        or audio is None
        or len(plan.formats) != 2
        or video.source is audio.source
        or video.action != "copy"
        or audio.action != "copy"
        or not all(f.protocol in WHOLE_FILES for f in plan.formats)
    ):
        return None
    return {
        "status": "local-processing",
        "type": "merge",
        "service": service,
        "tunnel": [
            part_link(ctx, request, url, choice, plan.formats.index(s.source))
            for s in (video, audio)
        ],
        "output": _output(choice, plan),
    }


def local_proxy(tunnel: str, choice: Choice, plan: Plan, *, service: str) -> dict[str, Any] | None:
    """``forced``'s answer for one file passed through as it is (``tunnel``), else ``None``."""
    if len(plan.formats) != 1 or plan.formats[0].protocol not in WHOLE_FILES:
        return None
    return {
        "status": "local-processing",
        "type": "proxy",
        "service": service,
        "tunnel": [tunnel],
        "output": _output(choice, plan),
    }


def _output(choice: Choice, plan: Plan) -> dict[str, Any]:
    """What the browser's file is: media type, name and (unless turned off) its tags."""
    output: dict[str, Any] = {"type": media_type(plan.ext), "filename": plan.filename}
    tags = {"title": plan.info.title, "artist": plan.info.uploader}
    if choice.metadata and any(tags.values()):
        output["metadata"] = {key: value for key, value in tags.items() if value}
    return output


def part_link(ctx: ServiceContext, request: Request, url: str, choice: Choice, part: int) -> str:
    """A signed tunnel to one stream of the plan for ``url`` and ``choice``."""
    ttl = ctx.settings.tunnel_ttl
    token = ctx.signer.tunnel(url, choice, item=None, ttl=ttl, part=part)
    return f"{ctx.public_base(request)}/api/v1/tunnel?t={token}"


def stream_part(plan: Plan, part: int) -> Plan:
    """The plan of one stream sent as it is: its own format, extension and file name."""
    fmt = plan.formats[min(part, len(plan.formats) - 1)]
    kind = "video" if fmt.has_video else "audio"
    ext = fmt.ext if fmt.has_video else _AUDIO_EXTS.get(fmt.ext, fmt.ext)
    stem = plan.filename.rsplit(".", 1)[0]
    return dataclasses.replace(
        plan,
        formats=(fmt,),
        ext=ext,
        filename=f"{stem}.{kind}.{ext}",
        estimated_size=fmt.size,
        choice=dataclasses.replace(plan.choice, metadata=False),
    )
