"""``--write-subs`` / ``--embed-subs`` / ``--sub-langs``: a page's subtitle tracks saved beside
the file or put into it, in the languages asked for, their text intact."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest

from mediadl.engine.ffmpeg import ffmpeg_exe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl

VTT = {
    "en": "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello subtitles\n",
    "tr": "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nMerhaba altyazı\n",
}


@pytest.fixture
def subbed_page(site: FixtureSite) -> Iterator[str]:
    """A page on 127.0.0.3: a fixture clip, a cover, English and Turkish subtitle tracks."""
    tracks = "".join(
        f'<track kind="subtitles" src="subs.{lang}.vtt" srclang="{lang}">' for lang in VTT
    )
    page = (
        "<!doctype html><html><head><title>Subbed clip</title>"
        f'<meta property="og:image" content="{site.url("thumb")}"></head><body><video>'
        f'<source src="{site.url("clip1")}" type="video/mp4">{tracks}</video></body></html>'
    )
    files = {"/page.html": page, **{f"/subs.{lang}.vtt": text for lang, text in VTT.items()}}

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.3", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.3:{server.server_address[1]}/page.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def subtitle_text(path: Path, index: int) -> str:
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", f"0:s:{index}", "-f", "srt", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def subtitle_languages(path: Path) -> list[str]:
    """Each subtitle track's name as players show it."""
    with av.open(str(path)) as container:
        return [
            s.metadata.get("title") or s.metadata.get("name", "")
            for s in container.streams.subtitles
        ]


def test_write_subs_saves_the_english_track_beside_the_file(
    subbed_page: str, tmp_path: Path
) -> None:
    done = run_mediadl("get", subbed_page, "--write-subs", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    (video,) = [n for n in names if n.endswith(".mp4")]
    stem = video.removesuffix(".mp4")
    assert names == sorted([video, f"{stem}.en.vtt"])
    assert (tmp_path / f"{stem}.en.vtt").read_text() == VTT["en"]
    assert subtitle_languages(tmp_path / video) == []  # written, not embedded


@pytest.mark.parametrize(("container", "codec"), [("mp4", "mov_text"), ("mkv", "srt")])
def test_embed_subs_puts_every_asked_language_into_the_file(
    subbed_page: str, tmp_path: Path, container: str, codec: str
) -> None:
    done = run_mediadl(
        "get", subbed_page, "--embed-subs", "--sub-langs", "en,tr", "--container", container,
        "-o", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.iterdir()
    assert subtitle_languages(path) == ["en", "tr"]
    with av.open(str(path)) as file:
        assert {s.codec_context.name for s in file.streams.subtitles} == {codec}
        assert file.streams.video and file.streams.audio
    assert "Hello subtitles" in subtitle_text(path, 0)
    assert "Merhaba altyazı" in subtitle_text(path, 1)


def test_sub_langs_picks_by_pattern(subbed_page: str, tmp_path: Path) -> None:
    done = run_mediadl(
        "get", subbed_page, "--write-subs", "--sub-langs", "t.*", "-o", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.suffixes[-2] for p in tmp_path.glob("*.vtt")) == [".tr"]
