"""The audio codec of an HLS rendition, as the master playlist names it.

An HLS master names its codecs on each video variant (``EXT-X-STREAM-INF`` … ``CODECS="avc1…,
mp4a.40.2",AUDIO="aud"``), not on the audio renditions (``EXT-X-MEDIA:TYPE=AUDIO``) the variant
refers to. yt-dlp keeps the video codec of such a variant and reports the audio rendition's codec
as unknown, so without this the audio part would be probed before the mux could start.
:func:`with_audio_claim` reads the master again (one small request, while the segments are already
being fetched) and, when the chosen video variant names exactly one video and one audio codec
and refers to the chosen rendition's group, takes that audio codec as the rendition's claim.

A claim is no proof: a wrong one fails ffmpeg, and :func:`~mediadl.engine.mux.mux` then probes
every part and runs again. Anything unclear (no master, no such variant, a group shared by
variants that disagree, a codec of neither kind) leaves the codec unknown, to be probed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from urllib.parse import urljoin

from mediadl.engine.codecs import CONTAINER_RULES, codec_family
from mediadl.engine.fetch.hls import tag_attributes
from mediadl.models import CancelToken, Plan
from mediadl.settings import Settings

__all__ = ["MASTER_LIMIT", "rendition_codec", "with_audio_claim"]

log = logging.getLogger("mediadl.hls")

MASTER_LIMIT = 1 << 20
"""Bytes a master playlist may have (a real one is a few kilobytes)."""
_VIDEO = frozenset({"h264", "hevc", "vp9", "vp8", "av1", "mpeg4", "theora"})
_AUDIO = frozenset({"aac", "mp3", "opus", "vorbis", "flac", "ac3", "eac3", "alac"})
_HLS = "m3u8_native"


def rendition_codec(text: str, master_url: str, video_url: str, audio_url: str) -> str | None:
    """The audio codec the master ``text`` (at ``master_url``) gives the audio rendition at
    ``audio_url`` when played with the variant at ``video_url``, or ``None`` when it doesn't say
    it unambiguously."""
    groups: set[str] = set()
    variant: dict[str, str] | None = None
    pending: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MEDIA:"):
            media = tag_attributes(line.partition(":")[2])
            uri = media.get("URI")
            if media.get("TYPE") == "AUDIO" and uri and urljoin(master_url, uri) == audio_url:
                groups.add(media.get("GROUP-ID", ""))
        elif line.startswith("#EXT-X-STREAM-INF:"):
            pending = tag_attributes(line.partition(":")[2])
        elif line and not line.startswith("#") and pending is not None:
            if urljoin(master_url, line) == video_url and variant is None:
                variant = pending
            pending = None
    if variant is None or len(groups) != 1 or variant.get("AUDIO") not in groups:
        return None
    return _audio_of(variant.get("CODECS", ""))


def _audio_of(codecs: str) -> str | None:
    """The audio codec of a ``CODECS`` list of one video and one audio codec, else ``None``."""
    names = [c.strip() for c in codecs.split(",") if c.strip()]
    video = [c for c in names if codec_family(c) in _VIDEO]
    audio = [c for c in names if codec_family(c) in _AUDIO]
    if len(video) != 1 or len(audio) != 1 or len(names) != 2:
        return None
    return audio[0]


def with_audio_claim(plan: Plan, settings: Settings, cancel: CancelToken | None = None) -> Plan:
    """``plan`` with its HLS audio rendition's codec named by the master playlist, when it is
    unknown and the master names it (a copy into a container that carries it); else ``plan``.
    Blocking (one request, stopped by ``cancel``); a master that can't be read leaves ``plan``
    as it is."""
    audio, video = plan.audio, plan.video
    if (
        audio is None
        or video is None
        or audio.action != "copy"
        or codec_family(audio.codec) != "unknown"
        or audio.source is video.source
        or audio.source.protocol != _HLS
        or video.source.protocol != _HLS
    ):
        return plan
    master = audio.source.raw.get("manifest_url")
    if not isinstance(master, str) or master != video.source.raw.get("manifest_url"):
        return plan
    text = _read_master(master, plan, settings, cancel)
    codec = rendition_codec(text, master, video.source.url, audio.source.url) if text else None
    rule = CONTAINER_RULES.get(plan.ext)
    if codec is None or rule is None or codec_family(codec) not in rule.audio:
        return plan
    return replace(plan, audio=replace(audio, codec=codec))


def _read_master(
    url: str, plan: Plan, settings: Settings, cancel: CancelToken | None
) -> str | None:
    from mediadl import errors
    from mediadl.engine.fetch.client import HttpClient, RequestFailed
    from mediadl.engine.fetch.headers import RequestHeaders
    from mediadl.engine.fetch.native import run_sync

    assert plan.audio is not None
    headers = RequestHeaders.of(plan.audio.source)
    deadline = settings.connect_timeout + settings.read_timeout

    async def read() -> bytes:
        async with asyncio.timeout(deadline), HttpClient(settings) as client:
            return await client.read_small(url, headers, limit=MASTER_LIMIT)

    try:
        body = run_sync(read(), cancel)
    except errors.Cancelled:
        raise
    except (RequestFailed, errors.MediadlError, TimeoutError, OSError) as exc:
        log.info("the master playlist couldn't be read again (%s): the audio is probed", exc)
        return None
    return body.decode("utf-8", "replace")
