"""The service's small parts: signing, secret, headers, negotiation, extraction sharing."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from mediadl import errors
from mediadl.engine import Engine
from mediadl.models import Choice, MediaInfo
from mediadl.service.headers import content_disposition, parse_range
from mediadl.service.problems import TunnelExpired, TunnelInvalid
from mediadl.service.resolver import Resolver
from mediadl.service.secret import load_secret
from mediadl.service.thumbs import sniff_image
from mediadl.service.tokens import Signer, choice_from_dict, choice_to_dict
from mediadl.settings import Settings
from mediadl_fixtures.server import FixtureSite

# --- signed links --------------------------------------------------------------------------------


def test_a_tunnel_carries_the_request_not_the_media_link() -> None:
    signer = Signer(b"k" * 32)
    choice = Choice(quality=720, container="mkv", audio_bitrate=256)
    token = signer.tunnel("https://example.com/watch?v=1", choice, item=2, ttl=60)
    req = signer.read_tunnel(token)
    assert (req.url, req.item, req.choice) == ("https://example.com/watch?v=1", 2, choice)
    assert req.expires > time.time() and len(req.id) == 12
    assert choice_to_dict(Choice()) == {}
    assert choice_from_dict(choice_to_dict(choice)) == choice


def test_tampered_foreign_and_expired_tokens() -> None:
    signer = Signer(b"k" * 32)
    token = signer.tunnel("https://example.com/v", Choice(), item=None, ttl=60)
    payload, signature = token.split(".")[-2:]
    with pytest.raises(TunnelInvalid):
        signer.read_tunnel(token.replace(payload, payload[:-2] + "AA"))
    with pytest.raises(TunnelInvalid):
        Signer(b"x" * 32).read_tunnel(token)
    with pytest.raises(TunnelInvalid):
        signer.loads("thumbnail", token)  # a tunnel token is no thumbnail token
    with pytest.raises(TunnelExpired):
        signer.read_tunnel(signer.tunnel("https://example.com/v", Choice(), item=None, ttl=-1))
    assert signature


# --- the secret ----------------------------------------------------------------------------------


def test_the_secret_is_created_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_secret(settings)
    assert len(first) == 64
    assert load_secret(settings) == first
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.iterdir()) == [tmp_path / "secret"]


def test_servers_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_secret(settings), range(16)))
    assert len(keys) == 1


def test_a_configured_secret_wins_and_must_be_long(tmp_path: Path) -> None:
    assert load_secret(Settings(data_dir=tmp_path, secret=SecretStr("s" * 20))) == b"s" * 20
    with pytest.raises(ValueError, match="at least"):
        load_secret(Settings(data_dir=tmp_path, secret=SecretStr("short")))


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plain name.mp4", 'attachment; filename="plain name.mp4"'),
        (
            "Çılgın ／ 歌 🎵.mp3",
            "attachment; filename=\"Clgn.mp3\"; filename*=UTF-8''"
            "%C3%87%C4%B1lg%C4%B1n%20%EF%BC%8F%20%E6%AD%8C%20%F0%9F%8E%B5.mp3",
        ),
        (
            "疯狂的歌.mp4",
            'attachment; filename="download.mp4"; '
            "filename*=UTF-8''%E7%96%AF%E7%8B%82%E7%9A%84%E6%AD%8C.mp4",
        ),
        ('a"b;c.mkv', "attachment; filename=\"a_b_c.mkv\"; filename*=UTF-8''a%22b%3Bc.mkv"),
    ],
)
def test_content_disposition_has_an_ascii_fallback_and_utf8(name: str, expected: str) -> None:
    value = content_disposition(name)
    assert value.isascii()
    assert value == expected


@pytest.mark.parametrize(
    ("header", "total", "span"),
    [
        ("bytes=0-99", 1000, (0, 100)),
        ("bytes=500-", 1000, (500, 1000)),
        ("bytes=-100", 1000, (900, 1000)),
        ("bytes=900-5000", 1000, (900, 1000)),
        ("bytes=1000-", 1000, None),
        ("bytes=" + "9" * 5000 + "-", 1000, None),  # past any size, not past int()'s limit
        ("bytes=0-" + "9" * 5000, 1000, (0, 1000)),
        ("bytes=-" + "9" * 5000, 1000, (0, 1000)),
        ("bytes=" + "0" * 5000 + "10-" + "0" * 5000 + "19", 1000, (10, 20)),
    ],
)
def test_byte_ranges(header: str, total: int, span: tuple[int, int] | None) -> None:
    wanted = parse_range(header)
    assert wanted is not None
    assert wanted.resolve(total) == span


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=-", "bytes=\u0661-\u0662"],
)
def test_ranges_we_serve_whole(header: str | None) -> None:
    assert parse_range(header) is None


def test_only_raster_images_pass() -> None:
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff_image(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<svg onload=alert(1)>") is None
    assert sniff_image(b"<html>") is None


# --- extraction: threads, sharing, caching --------------------------------------------------------


class CountingEngine(Engine):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.calls = 0
        self.threads: set[str] = set()
        self.inside = threading.Event()
        self.beat = threading.Event()
        """Set by the event loop while an extraction waits for it: the loop was never blocked."""

    def resolve(self, url: str, *, playlist: bool = True) -> MediaInfo:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        self.inside.set()
        self.beat.wait(60)  # the guard only ends a run whose loop is blocked
        return super().resolve(url, playlist=playlist)


async def test_identical_resolves_share_one_extraction_off_the_loop(
    settings: Settings, site: FixtureSite
) -> None:
    engine = CountingEngine(settings)
    with ThreadPoolExecutor(4, thread_name_prefix="extract") as pool:
        resolver = Resolver(engine, pool)

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(0.01)
                if engine.inside.is_set():
                    engine.beat.set()

        ticker = asyncio.create_task(heartbeat())
        url = site.pages["video"]
        results = await asyncio.gather(*(resolver.resolve(url) for _ in range(5)))
        ticker.cancel()
        assert engine.calls == 1
        assert all(r is results[0] for r in results)
        assert engine.beat.is_set(), "the event loop kept running during the extraction"
        assert all(name.startswith("extract") for name in engine.threads)
        assert await resolver.resolve(url + "#fragment") is results[0], "cached, normalized"
        assert engine.calls == 1
        await resolver.close()


async def test_failures_are_not_cached(settings: Settings, site: FixtureSite) -> None:
    engine = CountingEngine(settings)
    engine.beat.set()  # nothing here watches the loop
    with ThreadPoolExecutor(2) as pool:
        resolver = Resolver(engine, pool)
        for _ in range(2):
            with pytest.raises(errors.ContentNoMedia):
                await resolver.resolve(site.pages["nomedia"])
        assert engine.calls == 2
        await resolver.close()
