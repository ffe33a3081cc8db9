"""HLS media playlists (RFC 8216) read into the ordered parts to fetch.

Handles ``EXT-X-MAP`` (an init section, written again only when it changes), ``EXT-X-BYTERANGE``
(with and without an explicit offset), ``EXT-X-KEY`` ``AES-128`` (explicit IV, or the media
sequence number when the IV is absent), ``EXT-X-DISCONTINUITY`` (yt-dlp's ``format_index`` picks
one discontinuity period), ``EXT-X-GAP`` and the ad markers yt-dlp skips. What we can't do ourselves
— master playlists, live playlists, SAMPLE-AES and DRM key formats — raises :class:`Unsupported`,
and yt-dlp takes over.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mediadl import errors
from mediadl.engine.fetch.base import Unsupported
from mediadl.engine.fetch.segments import KeyRef, Part, web_link

__all__ = ["HlsOptions", "parse_media_playlist", "tag_attributes", "with_query"]

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')
_BYTERANGE = re.compile(r"(\d+)(?:@(\d+))?")
_IDENTITY_KEYFORMATS = ("", "identity")


@dataclass(frozen=True, slots=True)
class HlsOptions:
    """What yt-dlp's format dict adds to a playlist."""

    format_index: int | None = None
    segment_query: str | None = None
    key_query: str | None = None
    key: bytes | None = None
    iv: bytes | None = None
    key_uri: str | None = None


def parse_media_playlist(text: str, base_url: str, options: HlsOptions | None = None) -> list[Part]:
    """The parts of a VOD media playlist, in order; ``Unsupported`` for what yt-dlp must do."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or not lines[0].startswith("#EXTM3U"):
        raise errors.ContentInvalid("The stream's playlist isn't an HLS playlist.", url=base_url)
    reader = _Reader(base_url, options or HlsOptions())
    for line in lines[1:]:
        try:
            reader.feed(line)
        except (ValueError, OverflowError) as exc:  # OverflowError: an absurd media sequence
            raise errors.ContentInvalid(
                f"Bad line {line[:80]!r} in the stream's playlist.", url=base_url
            ) from exc
    if not reader.ended:
        raise Unsupported("a live HLS playlist (no EXT-X-ENDLIST)")
    if not reader.parts:
        raise errors.ContentInvalid("The stream's playlist lists no segments.", url=base_url)
    return reader.parts


def with_query(url: str, extra: str | None) -> str:
    """``url`` with the parameters of the query string ``extra`` added (replacing same names)."""
    if not extra:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(parse_qsl(extra.lstrip("?"), keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(slots=True)
class _Key:
    uri: str | None
    iv: bytes | None


@dataclass(slots=True)
class _Reader:
    """The state of reading a media playlist line by line."""

    base: str
    options: HlsOptions
    parts: list[Part] = field(default_factory=list)
    sequence: int = 0
    segments: int = 0
    discontinuity: int = 0
    key: _Key | None = None
    byte_range: tuple[int, int] | None = None
    next_offset: int = 0
    init: Part | None = None
    written_init: Part | None = None
    skip_next: bool = False
    in_ad: bool = False
    ended: bool = False

    def feed(self, line: str) -> None:
        if not line.startswith("#"):
            self._segment(line)
            return
        tag, _, value = line.partition(":")
        handler = _TAGS.get(tag)
        if handler is not None:
            handler(self, value)
        elif _is_ad_start(line):
            self.in_ad = True
        elif _is_ad_end(line):
            self.in_ad = False

    def _segment(self, uri: str) -> None:
        sequence, byte_range = self.sequence, self.byte_range
        self.sequence += 1
        self.byte_range = None
        skip, self.skip_next = self.skip_next, False
        wanted = self.options.format_index in (None, self.discontinuity)
        if skip or self.in_ad or not wanted:
            return
        self.segments += 1
        if self.init is not None and self.init != self.written_init:
            self.parts.append(self.init)
            self.written_init = self.init
        url = with_query(web_link(self.base, uri), self.options.segment_query)
        self.parts.append(Part(url, byte_range, self._key_ref(sequence), str(self.segments)))

    def _key_ref(self, sequence: int) -> KeyRef | None:
        if self.key is None:
            return None
        iv = self.options.iv or self.key.iv or sequence.to_bytes(16, "big")
        return KeyRef(self.key.uri, iv, self.options.key)

    # --- tags -----------------------------------------------------------------------------------

    def media_sequence(self, value: str) -> None:
        self.sequence = int(value)

    def byterange(self, value: str) -> None:
        match = _BYTERANGE.fullmatch(value.strip())
        if match is None:
            raise errors.ContentInvalid(f"Bad EXT-X-BYTERANGE {value!r} in the playlist.")
        length = int(match.group(1))
        start = int(match.group(2)) if match.group(2) is not None else self.next_offset
        self.byte_range = (start, start + length)
        self.next_offset = start + length

    def key_tag(self, value: str) -> None:
        attrs = tag_attributes(value)
        method = attrs.get("METHOD", "NONE").upper()
        if method == "NONE":
            self.key = None
            return
        if method != "AES-128" or attrs.get("KEYFORMAT", "").lower() not in _IDENTITY_KEYFORMATS:
            raise Unsupported(f"HLS encryption {method} {attrs.get('KEYFORMAT', '')}".strip())
        uri = self.options.key_uri or attrs.get("URI")
        if uri is not None:
            uri = with_query(
                web_link(self.base, uri), self.options.key_query or self.options.segment_query
            )
        iv = attrs.get("IV")
        self.key = _Key(uri, _iv(iv) if iv else None)

    def map_tag(self, value: str) -> None:
        attrs = tag_attributes(value)
        uri = attrs.get("URI")
        if uri is None:
            raise errors.ContentInvalid("An EXT-X-MAP in the playlist has no URI.")
        byte_range = None
        if "BYTERANGE" in attrs:
            match = _BYTERANGE.fullmatch(attrs["BYTERANGE"])
            if match is None:
                raise errors.ContentInvalid("Bad EXT-X-MAP BYTERANGE in the playlist.")
            start = int(match.group(2) or 0)
            byte_range = (start, start + int(match.group(1)))
        url = with_query(web_link(self.base, uri), self.options.segment_query)
        self.init = Part(url, byte_range, self._key_ref(self.sequence), "init")

    def discontinuity_tag(self, value: str) -> None:
        self.discontinuity += 1

    def gap(self, value: str) -> None:
        self.skip_next = True

    def endlist(self, value: str) -> None:
        self.ended = True

    def master(self, value: str) -> None:
        raise Unsupported("a master HLS playlist, not a media playlist")


_TAGS = {
    "#EXT-X-MEDIA-SEQUENCE": _Reader.media_sequence,
    "#EXT-X-BYTERANGE": _Reader.byterange,
    "#EXT-X-KEY": _Reader.key_tag,
    "#EXT-X-MAP": _Reader.map_tag,
    "#EXT-X-DISCONTINUITY": _Reader.discontinuity_tag,
    "#EXT-X-GAP": _Reader.gap,
    "#EXT-X-ENDLIST": _Reader.endlist,
    "#EXT-X-STREAM-INF": _Reader.master,
}


def tag_attributes(value: str) -> dict[str, str]:
    """A tag's ``NAME=value`` list (after its ``:``), quotes taken off."""
    return {name: raw.strip('"') for name, raw in _ATTRIBUTE.findall(value)}


def _iv(text: str) -> bytes:
    digits = text[2:] if text.lower().startswith("0x") else text
    try:
        return binascii.unhexlify(digits.zfill(32))
    except (binascii.Error, ValueError) as exc:
        raise errors.ContentInvalid(f"Bad IV {text!r} in the playlist.") from exc


def _is_ad_start(line: str) -> bool:
    return (line.startswith("#ANVATO-SEGMENT-INFO") and "type=ad" in line) or (
        line.startswith("#UPLYNK-SEGMENT") and line.endswith(",ad")
    )


def _is_ad_end(line: str) -> bool:
    return (line.startswith("#ANVATO-SEGMENT-INFO") and "type=master" in line) or (
        line.startswith("#UPLYNK-SEGMENT") and line.endswith(",segment")
    )
