"""Generate the fixture media once per recipe and cache it on disk (process-safe)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from . import playlists
from .catalog import ASSETS
from .plan import AES_IV, AES_KEY, NOIV_MEDIA_SEQUENCE, Step, build_plan, cache_key
from .probe import avc_codecs, probe
from .recipe import GENERATOR_VERSION, Recipe

MANIFEST = "manifest.json"
AUDIO_CODECS = "mp4a.40.2"
STEP_TIMEOUT = 900.0


class GenerationError(RuntimeError):
    """An ffmpeg step failed; the message carries the command and ffmpeg's stderr."""


def default_cache_dir() -> Path:
    """``$MEDIADL_FIXTURES_CACHE``, else ``<repo>/.cache/fixtures`` when running from a
    source checkout, else ``$XDG_CACHE_HOME/mediadl-fixtures`` (``~/.cache``)."""
    env = os.environ.get("MEDIADL_FIXTURES_CACHE")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    repo = here.parent.parent
    if here.parent.name == "src" and (repo / "pyproject.toml").is_file():
        return repo / ".cache" / "fixtures"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mediadl-fixtures"


@dataclass(frozen=True)
class MediaSet:
    """A generated, cached set of fixture media."""

    root: Path
    """The cache entry: ``manifest.json`` and ``site/`` (the served tree)."""
    recipe: Recipe
    info: dict[str, Any] = field(compare=False, repr=False)

    @classmethod
    def load(cls, root: Path, recipe: Recipe) -> MediaSet:
        return cls(root, recipe, json.loads((root / MANIFEST).read_text()))

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def key(self) -> str:
        return str(self.info["key"])

    @property
    def generated_in(self) -> float:
        """Seconds the generation took (when it happened)."""
        return float(self.info["generated_in"])

    @property
    def files(self) -> dict[str, Path]:
        """Catalog asset name -> local file."""
        return {name: self.file(name) for name in ASSETS}

    def file(self, name_or_path: str) -> Path:
        """Local file of a catalog asset name or a site URL path (``/hls/v360/seg_000.ts``)."""
        path = ASSETS[name_or_path].path if name_or_path in ASSETS else name_or_path
        return self.site_dir / path.lstrip("/")

    def segments(self, playlist: str) -> list[playlists.Segment]:
        """Segments of a media playlist (asset name or URL path), URIs relative to it."""
        return playlists.parse_media_playlist(self.file(playlist).read_text())

    def segment_bytes(self, playlist: str) -> list[bytes]:
        """Bytes of each segment as listed (byte ranges sliced; AES segments still
        encrypted: their plaintext is ``segment_bytes("hls_plain")``)."""
        base = self.file(playlist).parent
        out = []
        for seg in self.segments(playlist):
            data = (base / seg.uri).read_bytes()
            if seg.offset is not None and seg.length is not None:
                data = data[seg.offset : seg.offset + seg.length]
            out.append(data)
        return out

    @property
    def aes_key(self) -> bytes:
        return AES_KEY

    @property
    def aes_iv(self) -> bytes:
        """Explicit IV of ``hls_aes``; ``hls_aes_noiv`` uses the media sequence number."""
        return AES_IV


def ensure_media(recipe: Recipe | None = None, cache_dir: str | Path | None = None) -> MediaSet:
    """Return the cached media for ``recipe``, generating it first if needed.

    Safe with concurrent processes: one generates (under an ``flock``) into a temp dir
    that is atomically renamed; the others wait on the lock and then load it.
    """
    recipe = recipe or Recipe()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    plan = build_plan(recipe)
    key = cache_key(recipe, plan, Path(ffmpeg).name)
    final = cache / key
    if (final / MANIFEST).is_file():
        return MediaSet.load(final, recipe)
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / f"{key}.lock"):
        if not (final / MANIFEST).is_file():
            shutil.rmtree(final, ignore_errors=True)
            for stale in cache.glob(f".tmp-{key}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = cache / f".tmp-{key}-{os.getpid()}"
            try:
                _build(tmp, recipe, plan, ffmpeg, key)
                tmp.rename(final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return MediaSet.load(final, recipe)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _build(tmp: Path, recipe: Recipe, plan: list[Step], ffmpeg: str, key: str) -> None:
    started = time.monotonic()
    for step in plan:
        (tmp / step.cwd).mkdir(parents=True, exist_ok=True)
    for d in ("enc", "site/media"):
        (tmp / d).mkdir(parents=True, exist_ok=True)
    _write_keys(tmp)
    for phase in sorted({s.phase for s in plan}):
        steps = [s for s in plan if s.phase == phase]
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(lambda s: _run(ffmpeg, tmp, s), steps))
    info = _post_process(tmp, recipe)
    shutil.rmtree(tmp / "enc")
    info.update(
        key=key,
        generator_version=GENERATOR_VERSION,
        recipe=recipe.to_json(),
        ffmpeg=Path(ffmpeg).name,
        created=time.time(),
        generated_in=round(time.monotonic() - started, 2),
    )
    (tmp / MANIFEST).write_text(json.dumps(info, indent=1, ensure_ascii=False))


def _run(ffmpeg: str, tmp: Path, step: Step) -> None:
    proc = subprocess.run(
        [ffmpeg, *step.args],
        cwd=tmp / step.cwd,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    if proc.returncode:
        tail = proc.stderr.strip()[-2000:]
        raise GenerationError(
            f"fixture step {step.name!r} failed (exit {proc.returncode}) in {step.cwd}:\n"
            f"  ffmpeg {' '.join(step.args)}\n{tail}"
        )


def _write_keys(tmp: Path) -> None:
    (tmp / "enc" / "aes.key").write_bytes(AES_KEY)
    key_file = "../../../enc/aes.key"
    (tmp / "enc" / "keyinfo-iv").write_text(f"key.bin\n{key_file}\n{AES_IV.hex()}\n")
    (tmp / "enc" / "keyinfo-noiv").write_text(f"key.bin\n{key_file}\n")
    for folder in ("aes", "aes-noiv"):
        (tmp / "site" / "hls" / folder / "key.bin").write_bytes(AES_KEY)


def _hardlink_duplicates(original: Path, copy: Path) -> None:
    """Replace files in ``copy`` that are byte-identical to ``original``'s with hard links
    (the DASH timeline variant re-muxes the same video segments)."""
    for dup in copy.iterdir():
        src = original / dup.name
        same_size = src.is_file() and src.stat().st_size == dup.stat().st_size
        if same_size and src.read_bytes() == dup.read_bytes():
            dup.unlink()
            os.link(src, dup)


def _post_process(tmp: Path, recipe: Recipe) -> dict[str, Any]:
    site = tmp / "site"
    codecs = {s.name: avc_codecs(tmp / "enc" / f"{s.name}.mp4") for s in recipe.encodes}
    info: dict[str, Any] = {"codecs": codecs}
    for top, version in (("hls", 3), ("hls-fmp4", 7)):
        variants: list[dict[str, Any]] = [
            {
                "height": s.height,
                "width": s.width,
                "bitrate": s.bitrate,
                "codecs": codecs[s.name],
                "uri": f"v{s.height}/index.m3u8",
            }
            for s in sorted(recipe.hls)
        ]
        playlists.write_master(site / top, variants, AUDIO_CODECS, version, recipe.fps)
        info[top] = variants
    _hardlink_duplicates(site / "dash", site / "dash-timeline")
    info["discontinuity"] = playlists.merge_discontinuity(site / "hls" / "discontinuity")
    playlists.make_implicit_iv(site / "hls" / "aes-noiv" / "index.m3u8")
    info["aes"] = {
        "key": AES_KEY.hex(),
        "iv": AES_IV.hex(),
        "noiv_media_sequence": NOIV_MEDIA_SEQUENCE,
    }
    info["durations"] = {
        name: round(probe(site / a.path.lstrip("/")).duration, 3)
        for name, a in ASSETS.items()
        if a.path.startswith("/media/") and name != "thumb"
    }
    sizes: dict[str, int] = {}
    for p in sorted(site.rglob("*")):
        if p.is_file():
            folder = str(p.parent.relative_to(site))
            sizes[folder] = sizes.get(folder, 0) + p.stat().st_size
    info["folder_sizes"] = sizes
    return info
