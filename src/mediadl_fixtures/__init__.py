"""Offline fixture site for mediadl's tests and benchmarks.

Generates media once with ffmpeg (cached per recipe) and serves it, plus HTML pages that
yt-dlp's generic extractor understands, from a local HTTP server with fault knobs::

    async with FixtureSite() as site:            # or: with running_site() as site:
        site.pages["hls"]                         # page URL by name (catalog.PAGES)
        site.url("progressive", latency=50)       # asset URL with per-request knobs
        site.media["progressive"]                 # local file for byte comparisons
        site.stats.connections_opened

Under ``/v/`` the same pages and media answer 403 unless a member cookie comes along
(:mod:`mediadl_fixtures.members`); ``/vx/`` is its cookie-free sibling.
"""

from .catalog import (
    ASSETS,
    CATALOG,
    PAGES,
    UNICODE_TITLE,
    VIDEO_TITLE,
    Asset,
    Page,
    clip_duration,
    expected_formats,
)
from .knobs import KnobError, Knobs
from .media import GenerationError, MediaSet, default_cache_dir, ensure_media
from .probe import MediaInfo, StreamInfo, probe
from .recipe import DEFAULT_RECIPE, Recipe, VideoSpec
from .resources import RequestRecord, SiteStats
from .server import DEFAULT_HOST, FixtureSite
from .threaded import running_site

__all__ = [
    "ASSETS",
    "CATALOG",
    "DEFAULT_HOST",
    "DEFAULT_RECIPE",
    "PAGES",
    "UNICODE_TITLE",
    "VIDEO_TITLE",
    "Asset",
    "FixtureSite",
    "GenerationError",
    "KnobError",
    "Knobs",
    "MediaInfo",
    "MediaSet",
    "Page",
    "Recipe",
    "RequestRecord",
    "SiteStats",
    "StreamInfo",
    "VideoSpec",
    "clip_duration",
    "default_cache_dir",
    "ensure_media",
    "expected_formats",
    "probe",
    "running_site",
]
