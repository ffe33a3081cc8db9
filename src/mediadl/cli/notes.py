"""What ``mediadl get`` says instead of surprising: flags that cancel each other, a quality that
isn't offered, a container that means re-encoding, and an item's facts for ``--json``.

Each is a short ``note:`` line before the work starts; none stops the download.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

from rich.text import Text

from mediadl import errors
from mediadl.engine.probe import probe
from mediadl.models import Entry, MediaInfo, Plan

__all__ = [
    "conflicts",
    "entry_info",
    "file_duration",
    "note_text",
    "parse_section",
    "plan_notes",
    "public_url",
]

_SMUGGLED = "#__youtubedl_smuggle="


def conflicts(given: Mapping[str, object]) -> list[str]:
    """Notes for flags given together where one wins: ``given`` holds only the flags typed
    (or set in the config file), by name: ``audio``, ``mute``, ``quality``, ``container``,
    ``selector``."""
    notes = []
    if given.get("selector"):
        flags = (("-q", "quality"), ("-a", "audio"), ("--mute", "mute"))
        ignored = [flag for flag, name in flags if name in given]
        if ignored:
            notes.append(f"-f picks the formats itself: {', '.join(ignored)} ignored")
        return notes
    if given.get("audio"):
        if given.get("mute"):
            notes.append("-a (sound only) and --mute (no sound) together: --mute ignored")
        if "quality" in given:
            notes.append("-a gives sound only: -q (a video height) ignored")
        if "container" in given:
            notes.append("-a picks the file type itself: --container ignored")
    return notes


def plan_notes(plan: Plan) -> list[str]:
    """A video re-encoded to fit the container (slow, CPU-bound), or a quality below or above
    the one asked for."""
    notes = []
    video = plan.video
    if video is not None and video.action == "transcode":
        codec = _CODEC_NAMES.get(video.codec, video.codec)
        notes.append(
            f"{plan.ext}: the video is re-encoded to {codec}, which takes a while and much CPU "
            "(mp4 or mkv keep it as it is)"
        )
    asked = plan.choice.quality
    got = video.source.height if video is not None else None
    chosen_by_height = plan.choice.format_selector is None and plan.choice.audio is None
    if chosen_by_height and isinstance(asked, int) and got and got != asked:
        notes.append(f"{asked}p isn't offered: {got}p instead")
    return notes


_CODEC_NAMES = {
    "libvpx-vp9": "VP9",
    "libaom-av1": "AV1",
    "libsvtav1": "AV1",
    "libx264": "H.264",
    "libx265": "H.265",
}


def entry_info(entry: Entry, item: MediaInfo) -> MediaInfo:
    """An item of a playlist or feed keeps the title and duration its list gave it when its
    own page or file has none better (a feed's ``clip1.mp4`` is "Fixture clip 1" there)."""
    changes: dict[str, object] = {}
    if entry.title and item.title != entry.title and _generic_title(item):
        changes["title"] = entry.title
    if item.duration is None and entry.duration:
        changes["duration"] = entry.duration
    return dataclasses.replace(item, **changes) if changes else item  # type: ignore[arg-type]


def _generic_title(item: MediaInfo) -> bool:
    """The title a direct file gets: its name without extension (or its id)."""
    stem = item.webpage_url.split("#")[0].rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return item.title in (stem, item.id)


def public_url(url: str) -> str:
    """``url`` without yt-dlp's smuggled data (an internal hand-over, not part of the link)."""
    return url.split(_SMUGGLED, 1)[0]


def file_duration(path: Path) -> float | None:
    """The saved file's own duration, when the page didn't say."""
    try:
        return probe(path).duration
    except errors.MediadlError:  # a fact for --json, never a failure
        return None


def note_text(text: str) -> Text:
    return Text.assemble(("note", "yellow"), " ", text)


_TIME = r"(?:\d+:){0,2}\d+(?:\.\d+)?"
_SECTION = re.compile(rf"^\*?\s*(?P<start>{_TIME})?\s*-\s*(?P<end>{_TIME}|inf)?\s*$")


def parse_section(text: str) -> tuple[float, float | None]:
    """``*1:00-2:30`` (yt-dlp's spelling; the ``*`` may be left out), ``90-``, ``-0:30`` →
    (start, end) in seconds, ``None`` for "to the end". Raises ``ValueError`` with why."""
    match = _SECTION.match(text)
    if match is None:
        raise ValueError("use START-END as [HH:]MM:SS or seconds, e.g. *1:00-2:30 or 90-")
    start = _seconds(match["start"]) if match["start"] else 0.0
    end = None if match["end"] in (None, "inf") else _seconds(match["end"])
    if end is not None and end <= start:
        raise ValueError(f"the end ({match['end']}) must come after the start")
    return start, end


def _seconds(text: str) -> float:
    total = 0.0
    for piece in text.split(":"):
        total = total * 60 + float(piece)
    return total
