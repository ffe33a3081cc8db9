"""An extractor that reads no page: it reports what the extraction process it runs in inherited."""

from __future__ import annotations

import json
import os
from typing import Any

from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor

IMPORTED_BY = os.getpid()
EXTRACTED = [0]
"""Extractions this process ran (the forkserver that imports this module runs none)."""


class ProbeIE(InfoExtractor):  # type: ignore[misc]
    _VALID_URL = r"https?://probe\.invalid/(?P<id>\w+)"
    IE_NAME = "probe"

    def _real_extract(self, url: str) -> dict[str, Any]:
        EXTRACTED[0] += 1
        state = {
            "ffmpeg_version_kept": bool(FFmpegPostProcessor._version_cache.get("ffmpeg")),
            "pid": os.getpid(),
            "extractions_here": EXTRACTED[0],
            "noplaylist": self.get_param("noplaylist"),
        }
        return {
            "id": self._match_id(url),
            "title": json.dumps(state),
            "formats": [{"url": "https://probe.invalid/v.mp4", "ext": "mp4", "format_id": "0"}],
        }
