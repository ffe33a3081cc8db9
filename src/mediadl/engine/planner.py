"""plan(info, choice) → Plan: which formats, which container, which codec work, which name.

Pure: no I/O. A raw yt-dlp format selector is evaluated by the ``select`` callable passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from mediadl import errors
from mediadl.engine.codecs import (
    AUDIO_OUTPUTS,
    BEST_AUDIO_BY_CODEC,
    CONTAINER_RULES,
    ContainerRule,
    codec_family,
    fits,
)
from mediadl.engine.filenames import name_fields, render_name
from mediadl.models import QUALITY_LADDER, Choice, Format, MediaInfo, Plan, StreamPlan

__all__ = ["available_heights", "pick_height", "plan"]

Selector = Callable[[MediaInfo, str], Sequence[Format]]

_MP4_PREFERENCE = {"h264": 4, "hevc": 2, "av1": 3, "vp9": 1}
_WEBM_PREFERENCE = {"vp9": 4, "av1": 3, "vp8": 2}


def plan(info: MediaInfo, choice: Choice, *, select: Selector | None = None) -> Plan:
    """Decide everything about a download before a byte is fetched."""
    if info.is_playlist:
        raise errors.FormatUnavailable(
            "This link is a playlist: choose one of its items to download.", url=info.webpage_url
        )
    if not info.formats:
        raise errors.ContentNoMedia(url=info.webpage_url)
    if choice.format_selector:
        if select is None:
            raise errors.FormatUnavailable("Raw format selectors aren't accepted here.")
        return _plan_selected(info, choice, tuple(select(info, choice.format_selector)))
    if choice.audio:
        return _plan_audio(info, choice)
    return _plan_video(info, choice)


def available_heights(formats: Iterable[Format]) -> list[int]:
    """Known video heights, highest first."""
    return sorted({f.height for f in formats if f.has_video and f.height}, reverse=True)


def pick_height(heights: Sequence[int], wanted: int | str) -> int | None:
    """The nearest height not above ``wanted``, else the nearest above; ``None`` if unknown."""
    if not heights:
        return None
    if wanted == "best":
        return max(heights)
    target = int(wanted)
    below = [h for h in heights if h <= target]
    return max(below) if below else min(heights)


def ladder_steps(formats: Iterable[Format]) -> list[int]:
    """Ladder heights a person can pick that lead to distinct results."""
    heights = available_heights(formats)
    return sorted({pick_height(heights, step) or 0 for step in QUALITY_LADDER} - {0}, reverse=True)


def _plan_video(info: MediaInfo, choice: Choice) -> Plan:
    rule = CONTAINER_RULES[choice.container]
    video_formats = [f for f in info.formats if f.has_video]
    if not video_formats and choice.sound_only_as:
        return _plan_audio(info, replace(choice, audio=choice.sound_only_as, mute=False))
    if not video_formats:
        raise errors.FormatUnavailable(
            "This link has sound only. Choose an audio format instead.", url=info.webpage_url
        )
    height = pick_height(available_heights(video_formats), choice.quality)
    at_height = [f for f in video_formats if f.height == height] if height else video_formats
    video = max(at_height, key=lambda f: _video_score(f, choice.container))
    formats: tuple[Format, ...] = (video,)
    audio_source: Format | None = None
    if not choice.mute:
        if video.has_audio:
            audio_source = video
        else:
            audio_source = _best_audio(info.formats, rule.audio_preference, prefer_separate=True)
            if audio_source is not None and audio_source is not video:
                formats = (video, audio_source)
    video_plan = _stream(video, video.vcodec, rule.video, rule.video_encoder, rule)
    audio_plan = (
        _stream(audio_source, audio_source.acodec, rule.audio, rule.audio_encoder, rule)
        if audio_source
        else None
    )
    return _finish(info, choice, formats, choice.container, video=video_plan, audio=audio_plan)


def _plan_audio(info: MediaInfo, choice: Choice) -> Plan:
    wanted = choice.audio or "best"
    target = AUDIO_OUTPUTS.get(wanted)
    source = _best_audio(info.formats, (target.codec,) if target else (), prefer_separate=True)
    if source is None:
        raise errors.FormatUnavailable("This video has no sound to extract.", url=info.webpage_url)
    family = codec_family(source.acodec)
    if target is None:
        ext = BEST_AUDIO_BY_CODEC.get(family or "", "m4a")
        target = AUDIO_OUTPUTS[ext]
    copy = family == target.codec or (
        family == "unknown" and source.ext in ("m4a", "mp4") and target.codec == "aac"
    )
    stream = StreamPlan(
        source=source,
        action="copy" if copy else "transcode",
        codec=(source.acodec or target.codec) if copy else target.encoder,
    )
    return _finish(info, choice, (source,), target.ext, video=None, audio=stream)


def _plan_selected(info: MediaInfo, choice: Choice, chosen: tuple[Format, ...]) -> Plan:
    if not chosen:
        raise errors.FormatUnavailable(selector=choice.format_selector)
    rule = CONTAINER_RULES[choice.container]
    video = next((f for f in chosen if f.has_video), None)
    audio = next((f for f in chosen if f.has_audio and f is not video), None)
    audio = audio or (video if video and video.has_audio else None)
    if video is None:
        audio_choice = Choice(
            audio="best", metadata=choice.metadata, name_template=choice.name_template
        )
        return _plan_audio(_only(info, chosen), audio_choice)
    video_plan = StreamPlan(video, "copy", video.vcodec or "unknown")
    audio_plan = StreamPlan(audio, "copy", audio.acodec or "unknown") if audio else None
    ext = choice.container
    if not all(
        fits(
            s.source.vcodec if s is video_plan else s.source.acodec,
            allowed,
            s.source.ext,
            rule.native_exts,
        )
        for s, allowed in ((video_plan, rule.video), (audio_plan, rule.audio))
        if s
    ):
        ext = "mkv"
    return _finish(info, choice, chosen, ext, video=video_plan, audio=audio_plan)


def _only(info: MediaInfo, formats: tuple[Format, ...]) -> MediaInfo:
    from dataclasses import replace

    return replace(info, formats=formats)


def _stream(
    source: Format, codec: str | None, allowed: frozenset[str], encoder: str, rule: ContainerRule
) -> StreamPlan:
    if fits(codec, allowed, source.ext, rule.native_exts):
        return StreamPlan(source, "copy", codec or "unknown")
    return StreamPlan(source, "transcode", encoder)


def _video_score(fmt: Format, container: str) -> tuple[int, int, float, float]:
    preference = _WEBM_PREFERENCE if container == "webm" else _MP4_PREFERENCE
    family = codec_family(fmt.vcodec) or ""
    separate_audio_bonus = 0 if fmt.has_audio else 1
    return (
        preference.get(family, 0),
        separate_audio_bonus,
        fmt.fps or 0.0,
        fmt.tbr or float(fmt.size or 0),
    )


def _best_audio(
    formats: Sequence[Format], preferred: Sequence[str], *, prefer_separate: bool
) -> Format | None:
    """The audio to use: separate over muxed, then by ``preferred`` codec order, then richest."""
    candidates = [f for f in formats if f.has_audio]
    if not candidates:
        return None
    ranks = {codec: len(preferred) - i for i, codec in enumerate(preferred)}

    def score(fmt: Format) -> tuple[int, int, float]:
        separate = int(not fmt.has_video) if prefer_separate else 0
        matches = ranks.get(codec_family(fmt.acodec) or "", 0)
        # Separate audio: the richest. Audio inside a video: the smallest video carrying it.
        weight = -float(fmt.height or 0) if fmt.has_video else (fmt.tbr or 0.0)
        return (separate, matches, weight)

    return max(candidates, key=score)


def _finish(
    info: MediaInfo,
    choice: Choice,
    formats: tuple[Format, ...],
    ext: str,
    *,
    video: StreamPlan | None,
    audio: StreamPlan | None,
) -> Plan:
    fields = name_fields(info, height=video.source.height if video else None, ext=ext)
    return Plan(
        info=info,
        choice=choice,
        formats=formats,
        ext=ext,
        filename=render_name(choice.name_template, fields, ext),
        video=video,
        audio=audio,
        estimated_size=_estimate(formats, info.duration),
    )


def _estimate(formats: Sequence[Format], duration: float | None) -> int | None:
    total = 0
    for fmt in formats:
        if fmt.size:
            total += fmt.size
        elif fmt.tbr and duration:
            total += int(fmt.tbr * 1000 / 8 * duration)
        else:
            return None
    return total or None
