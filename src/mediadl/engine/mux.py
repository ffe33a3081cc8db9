"""Turning fetched parts into the file a person asked for, with one ffmpeg run.

The plan decided copy or transcode from what the site claimed. A part whose claims can be taken
as they are (:func:`unsure_parts`: its streams copied, their codecs named and carried by a
container whose muxer refuses what it can't carry) goes to ffmpeg unprobed; the others are
probed first, every part when a run on claims fails, and a claimed copy that the container
can't hold becomes a transcode.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mediadl import errors
from mediadl.engine.codecs import AUDIO_OUTPUTS, CONTAINER_RULES, LOSSLESS_ENCODERS, codec_family
from mediadl.engine.ffmpeg import run_ffmpeg
from mediadl.engine.probe import MediaProbe, ProbeProcess, probe_apart
from mediadl.models import CancelToken, Plan, StreamPlan

__all__ = [
    "THUMBNAIL_EXTS",
    "build_args",
    "mux",
    "progress_reader",
    "refine",
    "tag_value",
    "unsure_parts",
]

THUMBNAIL_EXTS = frozenset({"mp4", "m4a", "mp3", "mkv"})
"""Outputs that carry a cover picture."""

_VIDEO_ENCODER_ARGS = {
    "libx264": ["-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"],
    "libvpx-vp9": [
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-row-mt",
        "1",
        "-b:v",
        "0",
        "-crf",
        "33",
    ],
}


@dataclass(frozen=True, slots=True)
class _Inputs:
    video: tuple[int, StreamPlan] | None
    audio: tuple[int, StreamPlan] | None


def mux(
    plan: Plan,
    parts: Sequence[Path],
    out: Path,
    *,
    thumbnail: Path | None = None,
    subtitles: Sequence[tuple[str, Path]] = (),
    ffmpeg: str | None = None,
    cancel: CancelToken | None = None,
    progress: Callable[[float], None] | None = None,
    prober: ProbeProcess | None = None,
    claims_failed: bool = False,
) -> None:
    """Write ``out`` from the fetched ``parts`` (in ``plan.formats`` order), with
    ``subtitles`` (language, file) as tracks when the container holds them.

    Only the parts whose streams the site's claims don't decide (:func:`unsure_parts`) are
    probed before ffmpeg runs; none when the claims decide them all. A run on claims that
    fails is tried again with every part probed, so a site that named the wrong codec costs
    time, not the file. Probes run in a process of their own (``prober`` when one was started
    ahead, :func:`~mediadl.engine.probe.probe_apart`): PyAV's memory stays out of the
    downloading process. ``claims_failed``: a run on the claims already failed (one that read
    the parts while they were fetched): every part is probed and ffmpeg runs once."""

    def args(probes: Mapping[str, MediaProbe]) -> list[str]:
        refined = refine(plan, probes)
        return build_args(refined, parts, out, thumbnail=thumbnail, subtitles=subtitles)

    def run(args: list[str], probes: Mapping[str, MediaProbe]) -> None:
        report = progress_reader(plan, probes, progress)
        run_ffmpeg(args, cancel=cancel, ffmpeg=ffmpeg, on_progress=report)

    unsure = list(range(len(parts))) if claims_failed else unsure_parts(plan)
    if unsure:
        probes = _probed(plan, parts, unsure, prober)
    else:
        if prober is not None:
            prober.close()
        probes = {}
    first = args(probes)
    try:
        run(first, probes)
    except errors.ProcessingFailed as failed:
        if len(probes) == len(plan.formats) or claims_failed:
            raise
        probes = _probed(plan, parts, range(len(parts)), None)
        again = args(probes)
        if again == first:
            raise failed from None  # the claims were right: the failure is something else
        run(again, probes)


def _probed(
    plan: Plan, parts: Sequence[Path], which: Sequence[int], prober: ProbeProcess | None
) -> dict[str, MediaProbe]:
    answers = probe_apart([parts[i] for i in which], prober)
    return {plan.formats[i].id: answer for i, answer in zip(which, answers, strict=True)}


def unsure_parts(plan: Plan) -> list[int]:
    """The parts (indices into ``plan.formats``) to probe before ffmpeg runs.

    A part is left unprobed when each of its output streams is a copy whose claimed codec the
    container carries and the container is MP4 or WebM: their muxers refuse a codec they can't
    carry, so a wrong claim fails the run (and :func:`mux` probes and runs again) rather than
    making a file of the wrong kind. Matroska carries anything and the audio-only containers
    accept codecs their extension doesn't promise (Vorbis in ``.opus``, AAC in ``.wav``): their
    parts are probed, as is a stream of unknown codec (an HLS audio rendition its master playlist
    doesn't name, :mod:`~mediadl.engine.hls_master`) and one planned as a transcode (the probe
    may find it can be copied).
    """
    rule = CONTAINER_RULES.get(plan.ext)
    refusing = rule is not None and rule.muxer in _REFUSING_MUXERS
    unsure: set[str] = set()
    for stream, kind in ((plan.video, "video"), (plan.audio, "audio")):
        if stream is None:
            continue
        allowed = getattr(rule, kind) if rule is not None else frozenset()
        if not (refusing and stream.action == "copy" and codec_family(stream.codec) in allowed):
            unsure.add(stream.source.id)
    return [i for i, fmt in enumerate(plan.formats) if fmt.id in unsure]


_REFUSING_MUXERS = frozenset({"mp4", "webm"})
"""Muxers that fail on a codec outside their container's rule rather than write it."""


def progress_reader(
    plan: Plan, probes: Mapping[str, MediaProbe], progress: Callable[[float], None] | None
) -> Callable[[str], None] | None:
    """The reader of ffmpeg's ``-progress`` lines that reports the fraction done: of the
    site's duration, else the probes', else the DASH manifest's segments' (no fraction for a
    part of unknown duration: the stage is still reported)."""
    if progress is None:
        return None
    duration = (
        plan.info.duration
        or next((p.duration for p in probes.values() if p.duration), None)
        or _fragments_duration(plan)
    )
    if plan.choice.section is not None and duration:
        start, end = plan.choice.section
        duration = max(0.1, min(end or duration, duration) - start)

    def on_line(line: str) -> None:
        if duration and line.startswith("out_time_us="):
            value = line.partition("=")[2]
            if value.isdigit():
                progress(min(1.0, int(value) / 1_000_000 / duration))

    return on_line


def _fragments_duration(plan: Plan) -> float | None:
    """The first format's duration as the sum of its fragments' (DASH manifests say it)."""
    fragments = plan.formats[0].raw.get("fragments") if plan.formats else None
    if not isinstance(fragments, list) or not fragments:
        return None
    seconds = [f.get("duration") if isinstance(f, dict) else None for f in fragments]
    numbers = [float(x) for x in seconds if isinstance(x, int | float)]
    return sum(numbers) or None if len(numbers) == len(fragments) else None


def refine(plan: Plan, probes: Mapping[str, MediaProbe]) -> Plan:
    """Correct copy/transcode decisions with the codecs the parts really carry (``probes``
    by format id; a part not probed keeps what the plan claimed)."""
    video, audio = plan.video, plan.audio
    rule = CONTAINER_RULES.get(plan.ext)
    if video is not None and rule is not None and video.source.id in probes:
        real = probes[video.source.id].video
        if real is not None:
            family = codec_family(real.codec) or ""
            video = (
                StreamPlan(video.source, "copy", family)
                if family in rule.video
                else StreamPlan(video.source, "transcode", rule.video_encoder)
            )
    if audio is not None and audio.source.id in probes:
        real_audio = probes[audio.source.id].audio
        if real_audio is not None:
            audio = _refine_audio(plan.ext, audio, codec_family(real_audio.codec) or "")
    return replace(plan, video=video, audio=audio)


def _refine_audio(ext: str, audio: StreamPlan, family: str) -> StreamPlan:
    rule = CONTAINER_RULES.get(ext)
    if rule is not None:
        if family in rule.audio:
            return StreamPlan(audio.source, "copy", family)
        return StreamPlan(audio.source, "transcode", rule.audio_encoder)
    target = next((o for o in AUDIO_OUTPUTS.values() if o.ext == ext), None)
    if target is None:
        return audio
    if family == target.codec:
        return StreamPlan(audio.source, "copy", family)
    return StreamPlan(audio.source, "transcode", target.encoder)


def build_args(
    plan: Plan,
    parts: Sequence[Path | str],
    out: Path | str,
    *,
    thumbnail: Path | None,
    input_args: Sequence[str] = (),
    streaming: bool = False,
    subtitles: Sequence[tuple[str, Path]] = (),
) -> list[str]:
    """The ffmpeg arguments for ``plan`` (inputs, maps, codecs, tags, container).

    ``parts`` may be URLs; ``input_args`` go before each ``-i``. ``streaming`` writes a container
    that needs no seeking back (fragmented MP4), for an output that is a pipe.
    """
    index = {f.id: i for i, f in enumerate(plan.formats)}
    args: list[str] = []
    for part in parts:
        args += [*input_args, *_section_args(plan), "-i", str(part)]
    cover = thumbnail if thumbnail and plan.ext in THUMBNAIL_EXTS and plan.choice.metadata else None
    if cover and plan.ext != "mkv":
        args += ["-i", str(cover)]
    first_subtitle = len(parts) + (1 if cover and plan.ext != "mkv" else 0)
    codec = SUBTITLE_CODECS.get(plan.ext) if plan.video is not None else None
    subtitles = subtitles if codec else ()
    for _lang, path in subtitles:
        args += [*_section_args(plan), "-i", str(path)]
    args += ["-map_metadata", "-1", "-map_chapters", "-1"]
    video_streams = 0
    if plan.video is not None:
        args += ["-map", f"{index[plan.video.source.id]}:v:0"]
        args += _codec_args("v:0", plan.video)
        video_streams = 1
    if plan.audio is not None:
        args += ["-map", f"{index[plan.audio.source.id]}:a:0"]
        args += _codec_args("a:0", plan.audio, bitrate=plan.choice.audio_bitrate)
        if streaming and _adts_to_asc(plan):
            # A header written before the first packet (empty moov) can't wait for ffmpeg to
            # notice ADTS framing (AAC from MPEG-TS): convert it explicitly.
            args += ["-bsf:a", "aac_adtstoasc"]
    for i, (lang, _path) in enumerate(subtitles):
        args += ["-map", f"{first_subtitle + i}:s:0", f"-c:s:{i}", str(codec)]
        # MP4 keeps only ISO 639-2 codes (eng): the title names the track in every player.
        args += [f"-metadata:s:s:{i}", f"language={tag_value(lang)}"]
        args += [f"-metadata:s:s:{i}", f"title={tag_value(lang)}"]
    args += _cover_args(plan.ext, cover, len(parts), video_streams)
    if plan.choice.metadata:
        args += _tag_args(plan)
    return [*args, *_container_args(plan.ext, streaming=streaming), "-y", str(out)]


SUBTITLE_CODECS = {"mp4": "mov_text", "mkv": "srt", "webm": "webvtt"}
"""The subtitle codec each video container holds (audio files hold none)."""


def _section_args(plan: Plan) -> list[str]:
    """Input options that read only the chosen seconds (``-ss`` seeks to the keyframe at or
    before the start; copied streams are not re-encoded)."""
    if plan.choice.section is None:
        return []
    start, end = plan.choice.section
    args = ["-ss", f"{start:.3f}"]
    return args if end is None else [*args, "-to", f"{end:.3f}"]


def _adts_to_asc(plan: Plan) -> bool:
    """Whether copied AAC (or audio of unknown codec) goes into an MP4-family container."""
    audio = plan.audio
    if audio is None or audio.action != "copy":
        return False
    muxer = CONTAINER_RULES[plan.ext].muxer if plan.ext in CONTAINER_RULES else None
    muxer = muxer or next((o.muxer for o in AUDIO_OUTPUTS.values() if o.ext == plan.ext), None)
    return muxer in ("mp4", "ipod") and codec_family(audio.codec) in ("aac", "unknown")


def _codec_args(spec: str, stream: StreamPlan, *, bitrate: int = 128) -> list[str]:
    if stream.action == "copy":
        return [f"-c:{spec}", "copy"]
    args = [f"-c:{spec}", stream.codec]
    if spec.startswith("v"):
        return args + _VIDEO_ENCODER_ARGS.get(stream.codec, [])
    if stream.codec in LOSSLESS_ENCODERS:
        return args
    return [*args, f"-b:{spec}", f"{bitrate}k"]


def _cover_args(ext: str, cover: Path | None, n_parts: int, video_streams: int) -> list[str]:
    if cover is None:
        return []
    if ext == "mkv":
        return [
            "-attach",
            str(cover),
            "-metadata:s:t:0",
            "mimetype=image/jpeg",
            "-metadata:s:t:0",
            "filename=cover.jpg",
        ]
    spec = f"v:{video_streams}"
    args = ["-map", f"{n_parts}:v:0", f"-c:{spec}", "mjpeg", f"-disposition:{spec}", "attached_pic"]
    if ext == "mp3":
        args += ["-id3v2_version", "3", f"-metadata:s:{spec}", "comment=Cover (front)"]
    return args


def _tag_args(plan: Plan) -> list[str]:
    info = plan.info
    tags = {"title": info.title, "artist": info.uploader, "comment": info.webpage_url}
    args: list[str] = []
    for key, value in tags.items():
        if value and (clean := tag_value(value)):
            args += ["-metadata", f"{key}={clean}"]
    return args


def tag_value(text: str) -> str:
    """``text`` fit for a tag: a site's title may hold any character, but a NUL can't be in a
    process argument at all, and other control characters (escapes, line breaks) only garble
    players and terminals. Each run of them becomes one space; letters of every script stay."""
    return _NOT_IN_TAGS.sub(" ", text).strip()


# Control characters (Unicode's Cc: C0, DEL, C1), and lone surrogates, which can't be encoded.
_NOT_IN_TAGS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]+")


# delay_moov: the header waits for the first fragment, so codec configs that only show up in the
# first packets (AAC from MPEG-TS) still get into it.
_STREAMING_MP4 = ["-movflags", "+empty_moov+default_base_moof+frag_keyframe+delay_moov"]
_STREAMING_M4A = [
    "-movflags",
    "+empty_moov+default_base_moof+delay_moov",
    "-frag_duration",
    "1000000",
]


def _container_args(ext: str, *, streaming: bool = False) -> list[str]:
    if ext in CONTAINER_RULES:
        muxer = CONTAINER_RULES[ext].muxer
        extra: list[str] = []
        if muxer == "mp4":
            extra = _STREAMING_MP4 if streaming else ["-movflags", "+faststart"]
        return [*extra, "-f", muxer]
    output = next((o for o in AUDIO_OUTPUTS.values() if o.ext == ext), None)
    if output is None:
        return []
    extra = _STREAMING_M4A if streaming and output.muxer == "ipod" else []
    return [*extra, "-f", output.muxer]
