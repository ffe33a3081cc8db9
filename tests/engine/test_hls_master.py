"""Reading an HLS audio rendition's codec from the master playlist's variant that refers to it."""

from __future__ import annotations

import pytest

from mediadl.engine.hls_master import rendition_codec

MASTER = "https://cdn.example/v/master.m3u8"
AUDIO = "https://cdn.example/v/audio/en.m3u8"
VIDEO = "https://cdn.example/v/720/index.m3u8"


def master(codecs: str, *, group: str = "aud", audio_uri: str = "audio/en.m3u8") -> str:
    return "\n".join(
        [
            "#EXTM3U",
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",URI="{audio_uri}"',
            '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="ac3",NAME="Surround",URI="audio/ac3.m3u8"',
            '#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.42c01e,mp4a.40.5",AUDIO="aud"',
            "360/index.m3u8",
            f'#EXT-X-STREAM-INF:BANDWIDTH=3000,RESOLUTION=1280x720,CODECS="{codecs}",'
            f'AUDIO="{group}"',
            "720/index.m3u8",
        ]
    )


def test_the_variants_audio_codec_names_the_rendition_of_its_group() -> None:
    assert rendition_codec(master("avc1.64001f,mp4a.40.2"), MASTER, VIDEO, AUDIO) == "mp4a.40.2"
    assert rendition_codec(master("mp4a.40.2,hvc1.1.6.L93"), MASTER, VIDEO, AUDIO) == "mp4a.40.2"
    absolute = master("avc1.64001f,opus", audio_uri=AUDIO)
    assert rendition_codec(absolute, MASTER, VIDEO, AUDIO) == "opus"


@pytest.mark.parametrize(
    ("text", "video", "audio"),
    [
        (master("avc1.64001f"), VIDEO, AUDIO),  # no audio codec named
        (master("avc1.64001f,mp4a.40.2,ec-3"), VIDEO, AUDIO),  # two audio codecs
        (master("avc1.64001f,mp4a.40.2,stpp.ttml.im1t"), VIDEO, AUDIO),  # one of neither kind
        (master("avc1.64001f,ac-3", group="ac3"), VIDEO, AUDIO),  # another group's variant
        (master("avc1.64001f,mp4a.40.2"), "https://cdn.example/v/1080/index.m3u8", AUDIO),
        (master("avc1.64001f,mp4a.40.2"), VIDEO, "https://cdn.example/v/audio/fr.m3u8"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:6\nseg0.ts\n", VIDEO, AUDIO),  # a media playlist
    ],
    ids=[
        "no-audio",
        "two-audio",
        "unknown-kind",
        "other-group",
        "no-variant",
        "no-rendition",
        "media-playlist",
    ],
)
def test_anything_unclear_leaves_the_codec_unknown(text: str, video: str, audio: str) -> None:
    assert rendition_codec(text, MASTER, video, audio) is None


def test_a_rendition_in_two_groups_is_unclear() -> None:
    text = master("avc1.64001f,mp4a.40.2").replace('URI="audio/ac3.m3u8"', 'URI="audio/en.m3u8"')
    assert rendition_codec(text, MASTER, VIDEO, AUDIO) is None
