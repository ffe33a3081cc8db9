"""Reading HLS media playlists into parts: byte ranges, keys and IVs, init sections, periods."""

from __future__ import annotations

import pytest

from mediadl import errors
from mediadl.engine.fetch.base import Unsupported
from mediadl.engine.fetch.dash import dash_parts
from mediadl.engine.fetch.hls import HlsOptions, parse_media_playlist, with_query
from mediadl.engine.fetch.segments import KeyRef, Part

BASE = "https://cdn.example/v/index.m3u8"


def playlist(*lines: str, end: bool = True) -> str:
    return "\n".join(
        ["#EXTM3U", "#EXT-X-TARGETDURATION:2", *lines, *(["#EXT-X-ENDLIST"] if end else [])]
    )


def test_plain_segments_resolve_against_the_playlist() -> None:
    parts = parse_media_playlist(playlist("#EXTINF:2,", "a.ts", "#EXTINF:2,", "/b.ts"), BASE)
    assert parts == [
        Part("https://cdn.example/v/a.ts", label="1"),
        Part("https://cdn.example/b.ts", label="2"),
    ]


def test_byteranges_with_and_without_offsets() -> None:
    text = playlist(
        "#EXT-X-BYTERANGE:100@0",
        "all.ts",
        "#EXT-X-BYTERANGE:50",
        "all.ts",
        "#EXT-X-BYTERANGE:10@500",
        "all.ts",
        "#EXT-X-BYTERANGE:5",
        "all.ts",
    )
    ranges = [p.byte_range for p in parse_media_playlist(text, BASE)]
    assert ranges == [(0, 100), (100, 150), (500, 510), (510, 515)]


def test_aes_explicit_iv_and_implicit_iv_from_the_media_sequence() -> None:
    text = playlist(
        "#EXT-X-MEDIA-SEQUENCE:7",
        '#EXT-X-KEY:METHOD=AES-128,URI="k.bin"',
        "s7.ts",
        "s8.ts",
        '#EXT-X-KEY:METHOD=AES-128,URI="k2.bin",IV=0x0102',
        "s9.ts",
        "#EXT-X-KEY:METHOD=NONE",
        "s10.ts",
    )
    parts = parse_media_playlist(text, BASE)
    key = "https://cdn.example/v/k.bin"
    assert parts[0].key == KeyRef(key, (7).to_bytes(16, "big"))
    assert parts[1].key == KeyRef(key, (8).to_bytes(16, "big"))
    assert parts[2].key == KeyRef("https://cdn.example/v/k2.bin", bytes(14) + b"\x01\x02")
    assert parts[3].key is None


def test_init_section_comes_first_and_again_only_when_it_changes() -> None:
    text = playlist(
        '#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"',
        "s1.m4s",
        "s2.m4s",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="init2.mp4"',
        "s3.m4s",
    )
    parts = parse_media_playlist(text, BASE)
    assert [(p.url.rsplit("/", 1)[1], p.label) for p in parts] == [
        ("init.mp4", "init"),
        ("s1.m4s", "1"),
        ("s2.m4s", "2"),
        ("init2.mp4", "init"),
        ("s3.m4s", "3"),
    ]
    assert parts[0].byte_range == (0, 720)


def test_format_index_keeps_one_discontinuity_period() -> None:
    text = playlist("a1.ts", "a2.ts", "#EXT-X-DISCONTINUITY", "b1.ts")
    parts = parse_media_playlist(text, BASE, HlsOptions(format_index=1))
    assert [p.url.rsplit("/", 1)[1] for p in parts] == ["b1.ts"]


def test_gaps_and_ads_are_skipped() -> None:
    text = playlist(
        "s1.ts",
        "#EXT-X-GAP",
        "gap.ts",
        "#UPLYNK-SEGMENT:x,ad",
        "ad.ts",
        "#UPLYNK-SEGMENT:x,segment",
        "s2.ts",
    )
    assert [p.url.rsplit("/", 1)[1] for p in parse_media_playlist(text, BASE)] == ["s1.ts", "s2.ts"]


def test_extra_query_parameters_and_an_inline_key() -> None:
    options = HlsOptions(segment_query="tok=1", key=b"k" * 16)
    text = playlist('#EXT-X-KEY:METHOD=AES-128,URI="key?x=2"', "s.ts?a=b")
    [part] = parse_media_playlist(text, BASE, options)
    assert part.url == "https://cdn.example/v/s.ts?a=b&tok=1"
    assert part.key is not None and part.key.key == b"k" * 16
    assert part.key.uri == "https://cdn.example/v/key?x=2&tok=1"
    assert with_query("https://h/p?a=1", "a=2&b=3") == "https://h/p?a=2&b=3"


@pytest.mark.parametrize(
    "text",
    [
        playlist("s.ts", end=False),
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
        playlist('#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://x"', "s.ts"),
        playlist(
            '#EXT-X-KEY:METHOD=AES-128,URI="k",KEYFORMAT="com.apple.streamingkeydelivery"', "s.ts"
        ),
    ],
    ids=["live", "master", "sample-aes", "drm-keyformat"],
)
def test_what_yt_dlp_must_handle_is_unsupported(text: str) -> None:
    with pytest.raises(Unsupported):
        parse_media_playlist(text, BASE)


@pytest.mark.parametrize("text", ["<html>", playlist(), playlist("#EXT-X-BYTERANGE:x", "s.ts")])
def test_broken_playlists_are_content_errors(text: str) -> None:
    with pytest.raises(errors.ContentInvalid):
        parse_media_playlist(text, BASE)


FOREIGN = [
    "file:///etc/passwd",
    "concat:https://cdn.example/a.ts|file:///etc/passwd",
    "subfile,,start,0,end,100,,:file:///etc/passwd",
    "ftp://cdn.example/a.ts",
    "gopher://cdn.example:70/_x",
    "data:video/mp2t;base64,R0FB",
    "crypto+http://cdn.example/a.ts",
    "http:///no-host.ts",
]


@pytest.mark.parametrize("link", FOREIGN)
@pytest.mark.parametrize("place", ["segment", "key", "init"])
def test_links_that_can_never_be_fetched_are_refused_while_reading(link: str, place: str) -> None:
    lines = {
        "segment": ["#EXTINF:2,", "a.ts", "#EXTINF:2,", link],
        "key": [f'#EXT-X-KEY:METHOD=AES-128,URI="{link}"', "#EXTINF:2,", "a.ts"],
        "init": [f'#EXT-X-MAP:URI="{link}"', "#EXTINF:2,", "a.ts"],
    }[place]
    with pytest.raises(errors.ContentUnfetchable):
        parse_media_playlist(playlist(*lines), BASE)


@pytest.mark.parametrize("link", FOREIGN)
def test_dash_segments_that_can_never_be_fetched_are_refused(link: str) -> None:
    good = {"url": "https://cdn.example/v/1.m4s"}
    with pytest.raises(errors.ContentUnfetchable):
        dash_parts({"url": BASE, "fragments": [good, {"url": link}]})
    with pytest.raises(errors.ContentUnfetchable):
        dash_parts({"fragment_base_url": link, "fragments": [{"path": "1.m4s"}]})


def test_relative_links_with_commas_and_colons_further_on_are_web_links() -> None:
    text = playlist("#EXTINF:2,", "seg,1.ts", "#EXTINF:2,", "./a:b.ts", "#EXTINF:2,", "x/c:d.ts")
    assert [p.url for p in parse_media_playlist(text, BASE)] == [
        "https://cdn.example/v/seg,1.ts",
        "https://cdn.example/v/a:b.ts",
        "https://cdn.example/v/x/c:d.ts",
    ]


def test_an_absurd_media_sequence_is_a_content_error() -> None:
    text = playlist(
        "#EXT-X-MEDIA-SEQUENCE:" + "9" * 60,
        '#EXT-X-KEY:METHOD=AES-128,URI="k.bin"',
        "#EXTINF:2,",
        "a.ts",
    )
    with pytest.raises(errors.ContentInvalid):
        parse_media_playlist(text, BASE)
