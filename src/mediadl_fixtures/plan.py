"""The ffmpeg command lines that turn a :class:`Recipe` into files.

Every path is relative to the build directory, so the plan (and therefore the cache key)
doesn't depend on where the cache lives. Served files land under ``site/``; intermediate
encodes under ``enc/`` (deleted after the build).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .recipe import GENERATOR_VERSION, Recipe, VideoSpec

AES_KEY = hashlib.sha256(b"mediadl-fixtures aes-128 key").digest()[:16]
AES_IV = bytes(range(16))
NOIV_MEDIA_SEQUENCE = 5
"""The implicit-IV AES playlist starts at this media sequence number (IV = sequence)."""

BASE = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")
CLIP_SOURCES = ("testsrc", "smptebars", "rgbtestsrc", "testsrc2", "yuvtestsrc")


@dataclass(frozen=True)
class Step:
    """One ffmpeg run: ``args`` go after the binary; ``cwd`` is relative to the build dir."""

    name: str
    args: tuple[str, ...]
    cwd: str = "."
    phase: int = 1


def enc_path(spec: VideoSpec) -> str:
    return f"enc/{spec.name}.mp4"


def _x264(spec: VideoSpec, recipe: Recipe) -> list[str]:
    gop = str(recipe.fps * recipe.segment)
    return [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        str(spec.bitrate),
        "-maxrate",
        str(spec.bitrate * 3 // 2),
        "-bufsize",
        str(spec.bitrate * 2),
        "-g",
        gop,
        "-keyint_min",
        gop,
        "-sc_threshold",
        "0",
        "-map_metadata",
        "-1",
    ]


def ladder_step(recipe: Recipe) -> Step:
    """All main encodes in one process: one testsrc2 source, split and scaled per height."""
    encodes = recipe.encodes
    top = max(s.height for s in encodes)
    noise = f",noise=alls={recipe.noise}:allf=t" if recipe.noise else ""
    src = f"testsrc2=s={VideoSpec(top, 0).width}x{top}:r={recipe.fps}:d={recipe.duration}"
    labels = "".join(f"[s{i}]" for i in range(len(encodes)))
    graph = [f"[0:v]format=yuv420p{noise},split={len(encodes)}{labels}"]
    args: list[str] = [*BASE, "-f", "lavfi", "-i", src]
    outs: list[str] = []
    for i, spec in enumerate(encodes):
        graph.append(f"[s{i}]scale={spec.width}:{spec.height}:flags=bicubic[o{i}]")
        outs += ["-map", f"[o{i}]", *_x264(spec, recipe), "-an", enc_path(spec)]
    return Step("encode video ladder", (*args, "-filter_complex", ";".join(graph), *outs))


def _sine(seconds: int, freq: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=f={freq}:beep_factor=4:sample_rate=48000:d={seconds}"]


def audio_step(recipe: Recipe) -> Step:
    args = [
        *BASE,
        *_sine(recipe.duration, 440),
        "-ac",
        "2",
        "-c:a",
        "aac",
        "-b:a",
        str(recipe.audio_bitrate),
        "-metadata",
        "title=mediadl fixture audio",
        "-movflags",
        "+faststart",
        "site/media/audio.m4a",
        "-ac",
        "2",
        "-c:a",
        "libmp3lame",
        "-b:a",
        str(recipe.mp3_bitrate),
        "-metadata",
        "title=mediadl fixture audio",
        "site/media/audio.mp3",
    ]
    return Step("encode audio", tuple(args))


def thumb_step() -> Step:
    args = [
        *BASE,
        "-f",
        "lavfi",
        "-i",
        "smptebars=s=640x360",
        "-frames:v",
        "1",
        "-q:v",
        "3",
        "site/media/thumb.jpg",
    ]
    return Step("thumbnail", tuple(args))


def _clip_args(
    recipe: Recipe, spec: VideoSpec, source: str, *, seconds: int, freq: int, out: str
) -> tuple[str, ...]:
    video = f"{source}=s={spec.width}x{spec.height}:r={recipe.fps}:d={seconds}"
    return (
        *BASE,
        "-f",
        "lavfi",
        "-i",
        video,
        *_sine(seconds, freq),
        *_x264(spec, recipe),
        "-c:a",
        "aac",
        "-b:a",
        "64000",
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-shortest",
        out,
    )


def clip_steps(recipe: Recipe) -> list[Step]:
    steps = []
    clip = VideoSpec(recipe.clip_height, 250_000)
    for i, seconds in enumerate(recipe.clip_durations):
        source = CLIP_SOURCES[i % len(CLIP_SOURCES)]
        out = f"site/media/clip{i + 1}.mp4"
        args = _clip_args(recipe, clip, source, seconds=seconds, freq=330 + 110 * i, out=out)
        steps.append(Step(f"clip {i + 1}", args))
    disc = _clip_args(
        recipe,
        recipe.extras_spec,
        "smptehdbars",
        seconds=3 * recipe.segment,
        freq=880,
        out="enc/discontinuity-b.mp4",
    )
    steps.append(Step("discontinuity part B", disc))
    return steps


def progressive_step(recipe: Recipe) -> Step:
    args = [
        *BASE,
        "-i",
        enc_path(recipe.progressive),
        "-i",
        "site/media/audio.m4a",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        "-metadata",
        "title=mediadl fixture progressive",
        "site/media/progressive.mp4",
    ]
    return Step("progressive mux", tuple(args), phase=2)


def _hls(recipe: Recipe, *, fmp4: bool = False, pattern: str = "seg_%03d") -> list[str]:
    args = [
        "-f",
        "hls",
        "-hls_time",
        str(recipe.segment),
        "-hls_playlist_type",
        "vod",
        "-hls_list_size",
        "0",
    ]
    if fmp4:
        args += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"]
        return [*args, "-hls_segment_filename", f"{pattern}.m4s"]
    return [*args, "-hls_segment_filename", f"{pattern}.ts"]


def hls_variant_steps(recipe: Recipe) -> list[Step]:
    steps = []
    for top, fmp4 in (("hls", False), ("hls-fmp4", True)):
        for spec in recipe.hls:
            args = [
                *BASE,
                "-i",
                f"../../../{enc_path(spec)}",
                "-c",
                "copy",
                *_hls(recipe, fmp4=fmp4),
                "index.m3u8",
            ]
            steps.append(Step(f"{top} {spec.name}", tuple(args), f"site/{top}/v{spec.height}", 2))
        args = [
            *BASE,
            "-i",
            "../../media/audio.m4a",
            "-c",
            "copy",
            *_hls(recipe, fmp4=fmp4),
            "index.m3u8",
        ]
        steps.append(Step(f"{top} audio", tuple(args), f"site/{top}/audio", 2))
    return steps


def extras_steps(recipe: Recipe) -> list[Step]:
    """The muxed (video+audio) extras: plain, byterange, AES-128 x2, discontinuity."""
    spec = recipe.extras_spec
    mux = Step(
        "extras mux",
        (
            *BASE,
            "-i",
            enc_path(spec),
            "-i",
            "site/media/audio.m4a",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-t",
            str(recipe.extras_duration),
            "-c",
            "copy",
            "enc/extras.mp4",
        ),
        phase=2,
    )
    src = ("-i", "../../../enc/extras.mp4", "-c", "copy")
    hls = _hls(recipe)
    single = [*hls[:-2], "-hls_flags", "single_file", "-hls_segment_filename", "all.ts"]
    rekey = ["-hls_flags", "periodic_rekey", "-start_number", str(NOIV_MEDIA_SEQUENCE)]
    part_a = ("-i", "../../../enc/extras.mp4", "-t", str(3 * recipe.segment), "-c", "copy")
    part_b = ("-i", "../../../enc/discontinuity-b.mp4", "-c", "copy")
    runs = {
        "plain": [*src, *hls, "index.m3u8"],
        "byterange": [*src, *single, "index.m3u8"],
        "aes": [*src, *hls, "-hls_key_info_file", "../../../enc/keyinfo-iv", "index.m3u8"],
        "aes-noiv": [
            *src,
            *hls,
            *rekey,
            "-hls_key_info_file",
            "../../../enc/keyinfo-noiv",
            "index.m3u8",
        ],
        "discontinuity": [*part_a, *_hls(recipe, pattern="a_%03d"), "a.m3u8"],
    }
    steps = [mux]
    steps += [Step(f"hls {k}", (*BASE, *v), f"site/hls/{k}", 3) for k, v in runs.items()]
    b_args = (*BASE, *part_b, *_hls(recipe, pattern="b_%03d"), "b.m3u8")
    steps.append(Step("hls discontinuity B", b_args, "site/hls/discontinuity", 3))
    return steps


def dash_steps(recipe: Recipe) -> list[Step]:
    steps = []
    for top, timeline in (("dash", "0"), ("dash-timeline", "1")):
        inputs: list[str] = []
        maps: list[str] = []
        for i, spec in enumerate(recipe.dash):
            inputs += ["-i", f"../../{enc_path(spec)}"]
            maps += ["-map", f"{i}:v"]
        inputs += ["-i", "../media/audio.m4a"]
        maps += ["-map", f"{len(recipe.dash)}:a"]
        args = [
            *BASE,
            *inputs,
            *maps,
            "-c",
            "copy",
            "-f",
            "dash",
            "-use_template",
            "1",
            "-use_timeline",
            timeline,
            "-seg_duration",
            str(recipe.segment),
            "-adaptation_sets",
            "id=0,streams=v id=1,streams=a",
            "manifest.mpd",
        ]
        steps.append(Step(top, tuple(args), f"site/{top}", 2))
    return steps


def build_plan(recipe: Recipe) -> list[Step]:
    return [
        ladder_step(recipe),
        audio_step(recipe),
        thumb_step(),
        *clip_steps(recipe),
        progressive_step(recipe),
        *hls_variant_steps(recipe),
        *extras_steps(recipe),
        *dash_steps(recipe),
    ]


def cache_key(recipe: Recipe, plan: list[Step], ffmpeg_name: str) -> str:
    """Hash of everything that shapes the output: recipe, command lines, versions."""
    h = hashlib.sha256()
    for part in (str(GENERATOR_VERSION), ffmpeg_name, recipe.canonical()):
        h.update(part.encode() + b"\0")
    for step in plan:
        h.update("\x1f".join((step.cwd, *step.args)).encode() + b"\0")
    return h.hexdigest()[:16]
