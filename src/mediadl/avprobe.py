"""What media files hold, read with PyAV: in this process, or as a process of its own.

PyAV and the FFmpeg libraries it loads take ~25 MB, and a download that merges parts probes them
once, just before the mux. Loaded into the downloading process, that memory comes on top of
everything the fetch and yt-dlp's extraction left there, and sets the download's peak. Run as
``python -m mediadl.avprobe``, it reads a JSON list of paths a line on stdin and answers a JSON
list a line on stdout (each a description, or ``{"error": …}``), in a process that holds nothing
else. This module imports only the standard library and PyAV (not the engine), so that process
starts small and quick.
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["describe", "main"]


def describe(path: str) -> dict[str, Any]:
    """``path``'s container, duration, tags and streams. Raises PyAV's or the OS's error."""
    import av  # ~25 MB and a moment to load: only when a file is really probed

    # the decoders opened to read the streams' parameters decode no frame: a 1080p H.264 frame
    # decoded costs ~7 MB more peak memory and tells nothing the headers don't
    with av.open(path, options={"skip_frame": "all"}) as container:
        return {
            "container": container.format.name,
            "duration": container.duration / 1_000_000 if container.duration else None,
            "streams": [_stream(s) for s in container.streams],
            "tags": {str(k).lower(): str(v) for k, v in (container.metadata or {}).items()},
        }


def _stream(stream: Any) -> dict[str, Any]:
    import av

    codec_context = getattr(stream, "codec_context", None)
    disposition = getattr(stream, "disposition", 0)
    return {
        "kind": stream.type,
        "codec": getattr(codec_context, "name", None) or "unknown",
        "width": getattr(codec_context, "width", None) or None,
        "height": getattr(codec_context, "height", None) or None,
        "attached_pic": bool(int(disposition) & int(av.stream.Disposition.attached_pic)),
    }


def main() -> None:
    """Answer each line of paths until stdin closes. PyAV is loaded first, before the first
    line, so a process started ahead of its work has it ready."""
    try:
        import av  # noqa: F401
    except ImportError as exc:
        failure: str | None = f"PyAV is not installed ({exc})"
    else:
        failure = None
    for line in sys.stdin:
        answers = [_answer(str(path), failure) for path in json.loads(line)]
        sys.stdout.write(json.dumps(answers) + "\n")
        sys.stdout.flush()


def _answer(path: str, failure: str | None) -> dict[str, Any]:
    if failure is not None:
        return {"error": failure}
    try:
        return describe(path)
    except Exception as exc:  # noqa: BLE001 - every failure is the answer for that file
        return {"error": str(exc) or type(exc).__name__}


if __name__ == "__main__":
    main()
